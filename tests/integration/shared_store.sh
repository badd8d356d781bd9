#!/usr/bin/env bash
# shared_store.sh BACKEND - SPEC §9 Scale-out: two gateways on one store
# (postgres or redis) behind a round-robin load balancer (nginx), both
# receiving webhook traffic for the same sessions.
#
# webhook-load sends MESSAGES messages over SESSIONS sessions through the
# balancer (one message of a session in flight at a time, resent with the
# same id until acknowledged), so consecutive messages of one session land on
# different gateways. Meanwhile channel-pollertest runs its "poller" under
# lease_watch on exactly one gateway; the test kills that gateway with
# SIGKILL and measures how long the lease takes to move, then restarts it.
# Must hold:
#   lost 0, answered twice 0 (distinct reply keys), per-session order 0
#   both gateways answered messages (the work really was shared)
#   polls never overlap: a poll always comes from the latest lease holder
#   the lease moved within its ttl (+ one retry interval) of the kill
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=load_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/load_lib.sh"
# shellcheck source-path=SCRIPTDIR source=store_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/store_lib.sh"

BACKEND=${1:?usage: shared_store.sh postgres|redis}
PLUGIN=$(storage_plugin "$BACKEND")
BIN=$OPENCLAW_TEST_BINARY_DIR/bin
POLLER=$OPENCLAW_TEST_BINARY_DIR/tests/plugins/channel-pollertest.so
for f in "$BIN/webhook-sink" "$BIN/webhook-load" "$POLLER" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/$PLUGIN.so" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/channel-webhook.so" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/provider-mock.so"; do
  [[ -e "$f" ]] || fail "$f is missing (build the project first)"
done
command -v nginx >/dev/null || fail "nginx is missing (apt-get install nginx-light)"

MESSAGES=${SHARED_MESSAGES:-1000}
SESSIONS=40
RATE=${SHARED_RATE:-150}
TTL=3000 # the poller lease's ttl (ms)
SECRET=shared-store-secret-0123456789
URL=$(store_url "$BACKEND")
POLLS=$TEST_TMP/polls.log
: >"$POLLS"

start_sink "$SECRET"

declare -A GW_PORT_OF GW_MPORT_OF GW_DIR_OF GW_PID_OF
# gateway N: writes its config and starts it.
start_gateway() {
  local n=$1
  if [[ -z "${GW_DIR_OF[$n]:-}" ]]; then
    new_state_dir "gw$n"
    GW_DIR_OF[$n]=$OPENCLAW_STATE_DIR
    GW_PORT_OF[$n]=$(free_port)
    GW_MPORT_OF[$n]=$(free_port)
    cat >"$TEST_TMP/gw$n.yaml" <<EOF
server: {host: 127.0.0.1, port: ${GW_PORT_OF[$n]}, logLevel: info}
monitoring: {metricsPort: ${GW_MPORT_OF[$n]}}
plugins:
  path: ["$OPENCLAW_TEST_BINARY_DIR/plugins"]
  load: [$PLUGIN, channel-webhook, provider-mock, "$POLLER"]
storage: {type: $BACKEND, url: "$URL"}
providers:
  - {name: mock, type: mock, latencyMs: 20}
agents:
  defaults: {model: {primary: mock/mock}, maxConcurrent: 64}
session: {dmScope: per-peer}
messages: {queue: {mode: followup}}
channels:
  webhook:
    secret: $SECRET
    callbackUrl: http://127.0.0.1:$SINK_PORT/replies
    dmPolicy: open
    allowFrom: ["*"]
  pollertest: {file: "$POLLS", ttlMs: $TTL, intervalMs: 100}
EOF
  fi
  export OPENCLAW_STATE_DIR=${GW_DIR_OF[$n]}
  start_daemon --config "$TEST_TMP/gw$n.yaml"
  GW_PID_OF[$n]=$DAEMON_PID
}

start_gateway 1
start_gateway 2
pass "two gateways on one $BACKEND store (pids ${GW_PID_OF[1]} ${GW_PID_OF[2]})"
lb_start "$(free_port)" "127.0.0.1:${GW_PORT_OF[1]}" "127.0.0.1:${GW_PORT_OF[2]}"

holder() { awk '$2 == "acquired" {p = $1} END {print p}' "$POLLS"; }
has_holder() { [[ -n "$(holder)" ]]; }
wait_until 10000 has_holder || fail "no gateway took the poller lease"
pass "the poller runs on one gateway (pid $(holder))"

"$BIN/webhook-load" --url "http://127.0.0.1:$LB_PORT/channels/webhook/inbound" \
  --secret "$SECRET" --messages "$MESSAGES" --sessions "$SESSIONS" --rate "$RATE" \
  --concurrency 8 --id-prefix m --retry --timeout-ms 5000 --max-seconds 200 \
  --acked "$ACKED" --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
LOAD=$!
track_pid "$LOAD"

wait_until 60000 replies_at_least $((MESSAGES / 4)) ||
  fail "only $(replies) replies after 60 s"

# ---- kill the poller's gateway ----
victim_pid=$(holder)
victim=""
for n in 1 2; do [[ "${GW_PID_OF[$n]}" == "$victim_pid" ]] && victim=$n; done
[[ -n "$victim" ]] || fail "the lease holder $victim_pid is not one of our gateways"
kill_ms=$(date +%s%3N)
kill -KILL "$victim_pid"
wait_pid_gone "$victim_pid" || fail "gateway $victim_pid survived SIGKILL"
# Restarted at once (a new instance: the load keeps both busy); the lease
# moves to whichever gateway takes it first once it expires.
start_gateway "$victim"
pass "gateway $victim restarted at once (pid ${GW_PID_OF[$victim]}) while the load goes on"
moved() { [[ -n "$(holder)" && "$(holder)" != "$victim_pid" ]]; }
wait_until $((TTL * 3)) moved || fail "the poller lease did not move after the kill"
took_ms=$(($(awk -v p="$(holder)" '$1 == p && $2 == "acquired" {t = $3} END {print t}' \
  "$POLLS") - kill_ms))
echo "poller lease moved to pid $(holder) ${took_ms} ms after kill -9 of $victim_pid (ttl $TTL)"
((took_ms <= TTL + TTL / 3 + 1000)) ||
  fail "the lease took ${took_ms} ms to move (ttl $TTL ms)"
pass "the poller lease moved within its expiry (${took_ms} ms, ttl $TTL ms)"

# ---- the end ----
load_rc=0
wait "$LOAD" || load_rc=$?
LOAD_JSON=$(cat "$TEST_TMP/load.json")
[[ "$load_rc" == 0 ]] || fail "webhook-load exited $load_rc
$LOAD_JSON
$(tail -n 5 "$TEST_TMP/load.err")"
assert_json "$LOAD_JSON" 'j["acked"]' "$MESSAGES" "every message acknowledged"
wait_replied 90000

load_verdict "$SESSIONS"
turns_of() {
  curl -s "http://127.0.0.1:${GW_MPORT_OF[$1]}/metrics" |
    awk '/^openclaw_agent_turns_total\{/ {n += $2} END {print n + 0}'
}
t1=$(turns_of 1)
t2=$(turns_of 2)
received_of() {
  curl -s "http://127.0.0.1:${GW_MPORT_OF[$1]}/metrics" |
    awk '/^openclaw_messages_received_total\{.*outcome="accepted"/ {n += $2} END {print n + 0}'
}
r1=$(received_of 1)
r2=$(received_of 2)
OVERLAP=$(python3 - "$POLLS" <<'PY'
import sys
holder, bad = None, 0
events = sorted((int(t), pid, ev) for pid, ev, t in (l.split() for l in open(sys.argv[1])))
for t, pid, ev in events:
    if ev == "acquired":
        holder = pid
    elif ev == "poll" and pid != holder:
        bad += 1
print(bad)
PY
)
cat <<EOF
backend        $BACKEND ($URL)
messages       $MESSAGES ($SESSIONS sessions, $RATE/s through nginx round robin)
acknowledged   $(field acked)
lost           $(field lost) $(field lost_ids)
answered twice $(field twice) $(field twice_ids)
order          $(field order)
raw repeats    $(field raw_repeats)
accepted       gateway 1 (since its last start): $r1, gateway 2: $r2
turns          gateway 1 (since its last start): $t1, gateway 2: $t2
poll overlaps  $OVERLAP ($(grep -c ' poll ' "$POLLS") polls, $(grep -c acquired "$POLLS") acquisitions)
EOF
assert_eq 0 "$(field lost)" "no acknowledged message lost"
assert_eq 0 "$(field twice)" "no message answered twice"
assert_eq 0 "$(field order)" "per-session order kept across the two gateways"
assert_eq 0 "$(field bad_text)" "every reply answers its own message"
assert_eq 0 "$OVERLAP" "the poller never ran on two gateways at once"
((t1 > 0 && t2 > 0)) || fail "one gateway did all the work ($t1 / $t2 turns)"
pass "both gateways answered messages"
finish
