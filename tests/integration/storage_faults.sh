#!/usr/bin/env bash
# storage_faults.sh BACKEND - issue 5 "Faults": the storage server (a private
# postgres or redis of this test, durable) is stopped under load and started
# again, without restarting the gateway.
#   while it is down: /health/detailed says "degraded" with the storage
#     "unavailable", openclaw_storage_up is 0, and an inbound message gets 503
#     (never an acknowledgement the gateway could not persist);
#   after it is back: the gateway recovers by itself (ok, storage_up 1, new
#     messages acknowledged) and every acknowledged message is answered:
#     lost 0, answered twice 0, per-session order 0.
# Also: a gateway started while the store is unreachable fails with a clear
# error (exit 1, naming the store without its password), never a crash.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=load_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/load_lib.sh"
# shellcheck source-path=SCRIPTDIR source=store_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/store_lib.sh"

BACKEND=${1:?usage: storage_faults.sh postgres|redis}
PLUGIN=$(storage_plugin "$BACKEND")
BIN=$OPENCLAW_TEST_BINARY_DIR/bin
SEND=$OPENCLAW_TEST_SOURCE_DIR/tests/support/webhook_send.py
for f in "$BIN/webhook-sink" "$BIN/webhook-load" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/$PLUGIN.so" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/channel-webhook.so" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/provider-mock.so"; do
  [[ -e "$f" ]] || fail "$f is missing (build the project first)"
done

MESSAGES=${FAULT_MESSAGES:-800}
SESSIONS=20
RATE=${FAULT_RATE:-100}
SECRET=storage-faults-secret-0123456789

private_store_start "$BACKEND"
pass "private $BACKEND on port $PRIVATE_PORT ($STORE_URL)"

start_sink "$SECRET"

PORT=$(free_port)
MPORT=$(free_port)
CFG=$TEST_TMP/gateway.yaml
write_cfg() { # URL [extra storage keys]
  cat >"$CFG" <<EOF
server: {host: 127.0.0.1, port: $PORT, logLevel: info}
monitoring: {metricsPort: $MPORT}
plugins:
  path: ["$OPENCLAW_TEST_BINARY_DIR/plugins"]
  load: [$PLUGIN, channel-webhook, provider-mock]
storage: {type: $BACKEND, url: "$1"${2:+, $2}}
providers:
  - {name: mock, type: mock, latencyMs: 20}
agents:
  defaults: {model: {primary: mock/mock}, maxConcurrent: 64}
session: {dmScope: per-peer}
# cap: the load keeps sending while the store is down; dropping a session's
# backlog past the cap is queue policy, not what this test is about.
messages: {queue: {mode: followup, cap: 1000}}
channels:
  webhook:
    secret: $SECRET
    callbackUrl: http://127.0.0.1:$SINK_PORT/replies
    dmPolicy: open
    allowFrom: ["*"]
EOF
}

# ---- unreachable at start-up: a clear error, not a crash ----
DEAD_PORT=$(free_port)
if [[ "$BACKEND" == postgres ]]; then
  dead_url="postgresql://postgres:hunter2-secret@127.0.0.1:$DEAD_PORT/gwtest"
else
  dead_url="redis://:hunter2-secret@127.0.0.1:$DEAD_PORT/0"
fi
write_cfg "$dead_url" "startupRetrySeconds: 1"
run_timed "$BIN/openclaw" gateway start --config "$CFG"
assert_rc 1 "start with the store unreachable exits 1"
assert_contains "$RUN_OUT$RUN_ERR" "127.0.0.1:$DEAD_PORT" "the error names the store"
assert_not_contains "$RUN_OUT$RUN_ERR" "hunter2-secret" "the password is redacted"
((RUN_MS < 20000)) || fail "start took $RUN_MS ms to give up (startupRetrySeconds: 1)"

# ---- under load ----
write_cfg "$STORE_URL"
start_daemon --config "$CFG"
GW=$DAEMON_PID
BASE="http://127.0.0.1:$PORT"
MBASE="http://127.0.0.1:$MPORT"
pass "gateway started on $BACKEND (pid $GW)"

"$BIN/webhook-load" --url "$BASE/channels/webhook/inbound" \
  --secret "$SECRET" --messages "$MESSAGES" --sessions "$SESSIONS" --rate "$RATE" \
  --concurrency 8 --id-prefix m --retry --timeout-ms 3000 --max-seconds 200 \
  --acked "$ACKED" --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
LOAD=$!
track_pid "$LOAD"
wait_until 60000 replies_at_least $((MESSAGES / 4)) || fail "only $(replies) replies after 60 s"

storage_up() {
  curl -s "$MBASE/metrics" | awk '/^openclaw_storage_up\{/ {print $2}'
}
health_status() { curl -s "$BASE/health/detailed" | json_get "$(cat)" 'j["status"]'; }
degraded() { [[ "$(health_status)" == degraded && "$(storage_up)" == 0 ]]; }
healthy() { [[ "$(health_status)" == ok && "$(storage_up)" == 1 ]]; }

private_store_stop
down_at=$(replies)
pass "$BACKEND stopped under load (at $down_at replies)"
wait_until 15000 degraded || fail "the gateway did not report degraded: $(curl -s \
  "$BASE/health/detailed")"
pass "/health/detailed says degraded and openclaw_storage_up is 0"
# Probes are not load messages (verdict.py counts only ids m<N>).
probe='{"id":"probe-1","from":"u-probe","chat":{"type":"direct","id":"u-probe"},"text":"hi"}'
code=$(python3 "$SEND" "$BASE/channels/webhook/inbound" "$SECRET" "$probe" | head -1) || true
assert_eq 503 "$code" "an inbound message is refused with 503 while the store is down"
assert_json "$(curl -s "$BASE/health/detailed")" 'j["storage"]["status"]' unavailable \
  "storage status unavailable"
pid_alive "$GW" || fail "the gateway died while the store was down"
# Down until the load has been refused a few times (its retries back off).
unavailable_count() {
  curl -s "$MBASE/metrics" |
    awk '/^openclaw_messages_received_total\{.*outcome="unavailable"/ {n += $2} END {print n + 0}'
}
refused_some() { (($(unavailable_count) >= 5)); }
wait_until 20000 refused_some || fail "the load was not refused while the store was down"
pass "the load's messages were refused with 503 ($(unavailable_count) so far)"

private_store_resume
wait_until 30000 healthy || fail "the gateway did not recover: $(curl -s "$BASE/health/detailed")"
pass "the gateway recovered by itself (ok, storage_up 1) without a restart"
probe=${probe/probe-1/probe-2}
code=$(python3 "$SEND" "$BASE/channels/webhook/inbound" "$SECRET" "$probe" | head -1) || true
assert_eq 202 "$code" "inbound messages are acknowledged again"

load_rc=0
wait "$LOAD" || load_rc=$?
LOAD_JSON=$(cat "$TEST_TMP/load.json")
[[ "$load_rc" == 0 ]] || fail "webhook-load exited $load_rc
$LOAD_JSON
$(tail -n 5 "$TEST_TMP/load.err")"
assert_json "$LOAD_JSON" 'j["acked"]' "$MESSAGES" "every message acknowledged in the end"
wait_replied 60000
load_verdict "$SESSIONS"
unavailable=$(unavailable_count)
cat <<EOF
backend        $BACKEND, stopped at $down_at replies
refused (503)  $unavailable inbound attempts while the store was down
acknowledged   $(field acked)
lost           $(field lost) $(field lost_ids)
answered twice $(field twice) $(field twice_ids)
order          $(field order)
raw repeats    $(field raw_repeats)
EOF
((unavailable > 0)) || fail "no inbound attempt was refused while the store was down"
assert_eq 0 "$(field lost)" "no acknowledged message lost"
assert_eq 0 "$(field twice)" "no message answered twice"
assert_eq 0 "$(field order)" "per-session order kept"
finish
