#!/usr/bin/env bash
# lifecycle.sh - the command line and the process lifecycle (SPEC §4, §9):
# --version/--help, usage errors, plugins list, --daemon start, status,
# port in use, --force, restart, stop, SIGTERM/SIGINT drain, and a port
# held by a foreign process.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
CFG="$TEST_TMP/gateway.yaml"
cat >"$CFG" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
monitoring:
  metricsPort: $MPORT
EOF
BASE="http://127.0.0.1:$PORT"
MAIN_STATE=$OPENCLAW_STATE_DIR

# status_json: `gateway status --json` (must exit 0); sets STATUS.
status_json() {
  oc gateway status --json
  assert_rc 0 "gateway status --json exits 0 while running"
  STATUS=$RUN_OUT
  json_get "$STATUS" 'j' >/dev/null 2>&1 || fail "gateway status --json is not JSON: $STATUS"
}

# ---------------------------------------------------------------------------
# --version, --help, usage errors
# ---------------------------------------------------------------------------
oc --version
assert_rc 0 "openclaw --version"
assert_contains "$RUN_OUT" "0.1.0" "--version prints the version"
oc --help
assert_rc 0 "openclaw --help"
assert_contains "$RUN_OUT" "gateway" "--help lists the gateway command"
for cmd in "gateway" "gateway start" "gateway stop" "gateway restart" "gateway status" \
  "gateway validate" "plugins list" "logs"; do
  read -ra words <<<"$cmd"
  oc "${words[@]}" --help
  assert_rc 0 "openclaw $cmd --help"
  [[ -n "$RUN_OUT" ]] || fail "openclaw $cmd --help printed nothing on stdout"
done

oc frobnicate
assert_rc 2 "unknown command exits 2"
oc gateway frobnicate
assert_rc 2 "unknown gateway subcommand exits 2"
oc gateway start --frobnicate --config "$CFG"
assert_rc 2 "unknown option to gateway start exits 2"
oc gateway status --frobnicate
assert_rc 2 "unknown option to gateway status exits 2"
oc --frobnicate
assert_rc 2 "unknown top-level option exits 2"
oc gateway start --port
assert_rc 2 "--port without a value exits 2"
oc gateway start --port notaport --config "$CFG"
assert_rc 2 "--port with a non-number exits 2"

# ---------------------------------------------------------------------------
# plugins list --json (defaults: storage-sqlite, auth-apikey)
# ---------------------------------------------------------------------------
oc plugins list --json --config "$CFG"
assert_rc 0 "plugins list --json"
PL=$RUN_OUT
assert_json "$PL" 'sorted(p["name"] for p in j)' '["auth-apikey", "storage-sqlite"]' \
  "plugins list names storage-sqlite and auth-apikey (the defaults)"
assert_json "$PL" 'all(isinstance(p.get(k), str) and p[k] for p in j for k in ("name", "kind", "version", "abi", "file"))' \
  true "every plugin has name, kind, version, abi and file"
assert_json "$PL" '{p["name"]: p["kind"] for p in j}' '{"auth-apikey": "auth", "storage-sqlite": "storage"}' \
  "plugin kinds"
assert_json "$PL" 'all(p["abi"].split(".")[0].isdigit() for p in j)' true "abi is MAJOR.MINOR"
while IFS= read -r f; do
  [[ -f "$f" ]] || fail "plugins list: file $f does not exist"
  pass "plugin file exists: $f"
done < <(json_get "$PL" '"\n".join(p["file"] for p in j)')

# ---------------------------------------------------------------------------
# Not running yet
# ---------------------------------------------------------------------------
oc gateway status
assert_ne 0 "$RUN_RC" "gateway status exits non-zero before any start"

# ---------------------------------------------------------------------------
# --daemon start, status
# ---------------------------------------------------------------------------
start_daemon --config "$CFG"
PID1=$DAEMON_PID
pass "gateway start --daemon (pid $PID1)"
pid_alive "$PID1" || fail "the pid printed by --daemon ($PID1) is not running"
pass "daemon pid $PID1 is alive"
http GET "$BASE/readyz"
assert_status 200 "/readyz is 200 as soon as --daemon returned"
[[ -f "$MAIN_STATE/gateway.pid" ]] || fail "no gateway.pid in $MAIN_STATE"
assert_eq "$PID1" "$(tr -dc '0-9' <"$MAIN_STATE/gateway.pid")" "gateway.pid holds the daemon's pid"

oc gateway status
assert_rc 0 "gateway status exits 0 while running"
assert_match "$RUN_OUT" "(^|[^0-9])$PID1([^0-9]|$)" "gateway status shows the pid"

status_json
assert_json "$STATUS" 'j["running"]' true "status --json running: true"
assert_json "$STATUS" 'j["pid"]' "$PID1" "status --json pid"
assert_json "$STATUS" 'j["version"]' 0.1.0 "status --json version"
assert_json "$STATUS" 'isinstance(j["listeners"], list) and any(("127.0.0.1:%s" % '"$PORT"') in l for l in j["listeners"])' \
  true "status --json listeners include 127.0.0.1:$PORT"

# ---------------------------------------------------------------------------
# A second gateway on the same port fails fast (exit 1)
# ---------------------------------------------------------------------------
run_timed timeout 10 "$OC_BIN" gateway start --config "$CFG"
assert_rc 1 "second start (foreground, same state dir) on the same port exits 1"
((RUN_MS < 2000)) || fail "second start took ${RUN_MS} ms (expected < 2000 ms)"
pass "second start failed fast (${RUN_MS} ms)"
assert_match "$RUN_ERR" "already listening on|already in use" "second start says the port is taken"

new_state_dir state-second
run_timed timeout 10 "$OC_BIN" gateway start --daemon --config "$CFG"
assert_rc 1 "second start (--daemon, other state dir) on the same port exits 1"
((RUN_MS < 2000)) || fail "second --daemon start took ${RUN_MS} ms (expected < 2000 ms)"
pass "second --daemon start failed fast (${RUN_MS} ms)"
assert_match "$RUN_ERR" "already listening on|already in use" "second --daemon start says the port is taken"
assert_contains "$RUN_ERR" "127.0.0.1:$PORT" "the message names the address"
export OPENCLAW_STATE_DIR=$MAIN_STATE

pid_alive "$PID1" || fail "the first gateway died after the failed second start"
http GET "$BASE/health"
assert_status 200 "the first gateway still serves after the failed second starts"

# ---------------------------------------------------------------------------
# --force takes over a port held by a gateway of ours
# ---------------------------------------------------------------------------
start_daemon --force --config "$CFG"
PID2=$DAEMON_PID
assert_ne "$PID1" "$PID2" "--force start has a new pid"
wait_pid_gone "$PID1" 250 || fail "the old gateway (pid $PID1) still runs after --force"
pass "--force stopped the old gateway (pid $PID1 gone)"
http GET "$BASE/health"
assert_status 200 "/health after --force"
status_json
assert_json "$STATUS" 'j["pid"]' "$PID2" "status --json shows the --force pid"

# ---------------------------------------------------------------------------
# restart: new pid, same port
# ---------------------------------------------------------------------------
oc gateway restart
assert_rc 0 "gateway restart"
status_json
PID3=$(json_get "$STATUS" 'j["pid"]')
assert_ne "$PID2" "$PID3" "restart gives a new pid"
assert_json "$STATUS" 'j["port"]' "$PORT" "restart keeps the port"
pid_alive "$PID2" && fail "the pre-restart gateway (pid $PID2) still runs"
pass "the pre-restart gateway (pid $PID2) is gone"
http GET "$BASE/health"
assert_status 200 "/health after restart"
assert_json "$HTTP_BODY" 'j["status"]' ok "/health status ok after restart"

# ---------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------
oc gateway stop
assert_rc 0 "gateway stop"
pid_alive "$PID3" && fail "pid $PID3 still runs after gateway stop returned"
pass "gateway stop returned after the process exited"
oc gateway status
assert_ne 0 "$RUN_RC" "gateway status exits non-zero after stop"
[[ -e "$MAIN_STATE/gateway.pid" ]] && fail "gateway.pid still exists after stop"
pass "gateway.pid removed by stop"
http GET "$BASE/health"
assert_ne 200 "$HTTP_CODE" "nothing answers after stop"
oc gateway stop
assert_rc 0 "gateway stop when nothing runs exits 0"

# ---------------------------------------------------------------------------
# SIGTERM / SIGINT to a foreground gateway: drain, exit 0
# ---------------------------------------------------------------------------
for sig in TERM INT; do
  new_state_dir "state-sig$sig"
  out="$TEST_TMP/fg-$sig.out"
  "$OC_BIN" gateway start --config "$CFG" >"$out" 2>&1 &
  fg=$!
  track_pid "$fg"
  wait_http "$BASE/readyz" 200 200 || fail "foreground gateway never became ready; output:
$(cat "$out")"
  pass "foreground gateway ready (pid $fg) before SIG$sig"
  kill "-$sig" "$fg"
  wait_pid_gone "$fg" 750 || fail "foreground gateway (pid $fg) still runs 15 s after SIG$sig"
  rc=0
  wait "$fg" || rc=$?
  assert_eq 0 "$rc" "SIG$sig: foreground gateway exits 0"
  logtext="$(cat "$out")
$(cat "$OPENCLAW_STATE_DIR/gateway.log" 2>/dev/null || true)"
  assert_match "$logtext" "[Dd]rain" "SIG$sig: the log says it drained"
  [[ -e "$OPENCLAW_STATE_DIR/gateway.pid" ]] && fail "SIG$sig: gateway.pid left behind"
  pass "SIG$sig: gateway.pid removed"
done
export OPENCLAW_STATE_DIR=$MAIN_STATE

# ---------------------------------------------------------------------------
# A port held by a foreign process: exit 1 naming it; --force leaves it alone
# ---------------------------------------------------------------------------
FOREIGN_PORT=$(free_port)
python3 -m http.server "$FOREIGN_PORT" --bind 127.0.0.1 --directory "$TEST_TMP" \
  >"$TEST_TMP/http.server.log" 2>&1 &
PYPID=$!
track_pid "$PYPID"
wait_http "http://127.0.0.1:$FOREIGN_PORT/" 200 200 || fail "python3 -m http.server did not start"
pass "python3 -m http.server holds port $FOREIGN_PORT (pid $PYPID)"
COMM=$(cat "/proc/$PYPID/comm")

run_timed timeout 10 "$OC_BIN" gateway start --daemon --config "$CFG" --port "$FOREIGN_PORT"
assert_rc 1 "start on a port held by a foreign process exits 1"
((RUN_MS < 2000)) || fail "start on a foreign-held port took ${RUN_MS} ms (expected < 2000 ms)"
assert_contains "$RUN_ERR" "in use by pid $PYPID ($COMM)" "the message names the holder"

run timeout 30 "$OC_BIN" gateway start --daemon --force --config "$CFG" --port "$FOREIGN_PORT"
assert_rc 1 "--force on a port held by a foreign process exits 1"
assert_contains "$RUN_ERR" "in use by pid $PYPID ($COMM)" "--force says who holds the port"
pid_alive "$PYPID" || fail "--force killed the foreign process (pid $PYPID)"
pass "--force did not kill the foreign process"
http GET "http://127.0.0.1:$FOREIGN_PORT/"
assert_status 200 "the foreign server still answers"

finish
