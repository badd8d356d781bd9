#!/usr/bin/env bash
# crash_durability.sh - SPEC §7 Durability: after kill -9 and restart, every
# acknowledged inbound message is processed exactly once and answered once.
#
# Gateway with sqlite, the mock provider (latency, so turns are in flight
# when the gateway dies), the webhook channel (open DMs, followup queue) and
# webhook-sink as the receiver of replies. webhook-load sends 1000 messages
# over 50 sessions with --retry (a message is resent with the same id until
# a 2xx acknowledges it) while this script kills the gateway with SIGKILL at
# least 5 times at random points of the progress and restarts it at once.
# Then, once every acknowledged message has a reply at the sink:
#   lost           acknowledged ids without a reply              must be 0
#   answered twice ids with two different reply keys             must be 0
#   order          per session, first replies out of message order must be 0
#   raw repeats    deliveries of an already delivered key: a resend after a
#                  kill between the send and its recorded state; allowed, the
#                  receiver dedupes on the idempotency key (the contract)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=load_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/load_lib.sh"

BIN=$OPENCLAW_TEST_BINARY_DIR/bin
for f in "$BIN/webhook-sink" "$BIN/webhook-load" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/channel-webhook.so" \
  "$OPENCLAW_TEST_BINARY_DIR/plugins/provider-mock.so"; do
  [[ -e "$f" ]] || fail "$f is missing (build webhook-sink, webhook-load, channel-webhook and
provider-mock)"
done

MESSAGES=${CRASH_MESSAGES:-1000}
SESSIONS=50
RATE=${CRASH_RATE:-200} # messages/s: the requests and turns in flight die with the gateway
KILLS=${CRASH_KILLS:-6}
SECRET=crash-test-secret-0123456789
PORT=$(free_port)

# ---- the receiver ----
start_sink "$SECRET"

CFG=$TEST_TMP/gateway.yaml
cat >"$CFG" <<EOF
server: {host: 127.0.0.1, port: $PORT, logLevel: info}
monitoring: {metricsPort: 0}
plugins: {load: [storage-sqlite, channel-webhook, provider-mock]}
storage: {type: sqlite, path: $OPENCLAW_STATE_DIR/data/sessions.db}
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
EOF

start_daemon --config "$CFG"
GW=$DAEMON_PID
pass "gateway started with sqlite, provider-mock and channel-webhook (pid $GW)"

# ---- the load, in the background ----
"$BIN/webhook-load" --url "http://127.0.0.1:$PORT/channels/webhook/inbound" \
  --secret "$SECRET" --messages "$MESSAGES" --sessions "$SESSIONS" --rate "$RATE" \
  --concurrency 8 --id-prefix m --retry --timeout-ms 3000 --max-seconds 150 \
  --acked "$ACKED" --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
LOAD=$!
track_pid "$LOAD"

load_running() { pid_alive "$LOAD"; }

# kill_restart WHY: SIGKILL, then the same start right away. The pid file
# of the killed gateway stays behind; start must not mind it.
kills=0
kill_restart() {
  local why=$1
  [[ -f "$OPENCLAW_STATE_DIR/gateway.pid" ]] || fail "no gateway.pid before kill $((kills + 1))"
  kill -KILL "$GW"
  wait_pid_gone "$GW" || fail "gateway $GW survived SIGKILL"
  kills=$((kills + 1))
  [[ "$(tr -dc '0-9' <"$OPENCLAW_STATE_DIR/gateway.pid")" == "$GW" ]] ||
    fail "gateway.pid does not name the killed gateway $GW"
  start_daemon --config "$CFG"
  echo "kill $kills ($why): pid $GW killed at $(replies) replies, restarted as $DAEMON_PID"
  GW=$DAEMON_PID
}

# Kill points spread over the run (replies seen at the sink, plus a random
# offset); kill 3 hits a gateway that just restarted and is still
# recovering the previous one's pending messages.
step=$((MESSAGES / (KILLS + 1)))
for ((k = 1; k <= KILLS; k++)); do
  target=$((k * step - step / 3 + RANDOM % (step * 2 / 3)))
  if ! wait_until 60000 replies_at_least "$target"; then
    fail "kill $k: the sink got only $(replies) replies (waited for $target)"
  fi
  kill_restart "at >= $target replies"
  if ((k == 3)); then
    kill_restart "right after the restart, during recovery"
  fi
  load_running || break
done
pass "gateway killed with SIGKILL $kills times under load, each restart accepted at once"
((kills >= 5)) || fail "only $kills kills happened (the load ended early)"

# ---- the end of the load, then every reply ----
load_rc=0
wait "$LOAD" || load_rc=$?
LOAD_JSON=$(cat "$TEST_TMP/load.json")
[[ "$load_rc" == 0 ]] || fail "webhook-load exited $load_rc (not every message acknowledged)
$LOAD_JSON
$(tail -n 5 "$TEST_TMP/load.err")"
assert_json "$LOAD_JSON" 'j["acked"]' "$MESSAGES" \
  "every message acknowledged (202, or 200 duplicate after a retry)"

wait_replied 60000

# ---- the verdict ----
load_verdict "$SESSIONS"
# What the restarts found pending (the gateway logs it at info).
resumed=$(sed -n 's/.*recovery: \([0-9]*\) pending message(s) resumed.*/\1/p' \
  "$OPENCLAW_STATE_DIR/gateway.log" | awk '{n += $1} END {print n + 0}')
cat <<EOF
messages       $MESSAGES ($SESSIONS sessions, $RATE/s, mock latency 20 ms)
kills          $kills (SIGKILL, restarted each time with the same config)
resumed        $resumed pending inbox messages picked up by the restarts
acknowledged   $(field acked) ($(field dup_acks) of them as 200 duplicate after a retry)
requests       $(json_get "$LOAD_JSON" 'j["requests"]'), retries $(json_get "$LOAD_JSON" 'j["retries"]')
deliveries     $(field deliveries) at the sink
lost           $(field lost) $(field lost_ids)
answered twice $(field twice) $(field twice_ids)
raw repeats    $(field raw_repeats) (same idempotency key delivered again; receiver dedupes)
order          $(field order) violations of per-session message order
EOF
assert_eq 0 "$(field lost)" "no acknowledged message lost (each has a reply)"
assert_eq 0 "$(field twice)" "no message answered twice (one reply key per message)"
assert_eq 0 "$(field key_shared)" "no reply key shared by two messages"
assert_eq 0 "$(field bad_key)" "every reply key is reply:<inbox id>"
assert_eq 0 "$(field unacked_replied)" "no reply to a message that was never acknowledged"
assert_eq 0 "$(field bad_text)" "every reply answers its own message (text and recipient)"
assert_eq 0 "$(field order)" "replies arrive in message order within each session"
finish
