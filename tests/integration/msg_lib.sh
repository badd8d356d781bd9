# shellcheck shell=bash disable=SC2034 # globals set here (GW_*, RECV_*, SEND_*, ...) are read by the sourcing scripts
# msg_lib.sh - helpers for the messaging integration tests (messaging.sh,
# groups.sh, queue.sh); sourced after lib.sh.
#
# A scenario runs one gateway with the channel-webhook and provider-mock
# plugins, and one fake receiver (tests/support/webhook_receiver.py) that
# gets the replies and appends each as a JSON line (with its arrival time
# "_ts", ms since the epoch) to RECV_OUT:
#
#   start_receiver NAME [receiver options]   -> RECV_URL, RECV_OUT
#   new_gateway NAME                         -> GW_PORT, GW_MPORT, GW_CFG, BASE, MBASE
#   write_config PROVIDER_KEYS CHANNEL_KEYS [TOP_LEVEL_YAML]
#   gw_up / gw_down
#   dm ID FROM TEXT / group ID FROM GROUP TEXT [MEMBERS]   (assert 202)
#   wait_lines N DESC                        (poll RECV_OUT; never sleep)
#
# Waiting: every wait polls a condition with wait_until (50 ms apart, with a
# deadline). "Nothing was sent" is shown by a barrier: a later message of the
# same session lane is answered (lanes run in arrival order, and a message
# that gets no answer is settled before the next one of its lane starts),
# plus the metric that counts the message as processed.

SUPPORT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)"

# Shared by the scripts: the queue mode most checks use (one turn per
# message), and the counter of messages settled without an answer by policy.
FOLLOWUP="messages:
  queue:
    mode: followup"
DROPPED_POLICY='openclaw_queue_dropped_total{reason="policy"}'
for _plugin in channel-webhook provider-mock; do
  if [[ ! -f "$OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so" ]]; then
    echo "FAIL: $OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so is missing (build the $_plugin target)" >&2
    exit 1
  fi
done
unset _plugin
[[ -f "$SUPPORT_DIR/webhook_receiver.py" && -f "$SUPPORT_DIR/webhook_send.py" ]] ||
  fail "tests/support/webhook_receiver.py or webhook_send.py is missing"

WH_SECRET="it-webhook-secret-4b9d0e6a2c"
GW_PLUGINS="storage-sqlite, channel-webhook, provider-mock"

# ---- receiver ----

# start_receiver NAME [OPTIONS...]: a fresh receiver (options such as
# --fail-first N go to webhook_receiver.py); sets RECV_URL, RECV_OUT.
start_receiver() {
  local name=$1 portfile pid
  shift
  portfile="$TEST_TMP/$name.port"
  RECV_OUT="$TEST_TMP/$name.jsonl"
  : >"$RECV_OUT"
  python3 "$SUPPORT_DIR/webhook_receiver.py" --port 0 --secret "$WH_SECRET" --out "$RECV_OUT" \
    --timestamps "$@" >"$portfile" 2>"$TEST_TMP/$name.err" &
  pid=$!
  track_pid "$pid"
  RECV_PID=$pid
  RECV_NAME=$name
  wait_until 10000 grep -q '^PORT [0-9]' "$portfile" ||
    fail "receiver $name did not print its port: $(cat "$TEST_TMP/$name.err")"
  RECV_URL="http://127.0.0.1:$(sed -n 's/^PORT //p' "$portfile")/replies"
}

# recv_count: lines (deliveries) in RECV_OUT.
recv_count() {
  wc -l <"$RECV_OUT" | tr -d ' '
}

_lines_ge() {
  (($(recv_count) >= $1))
}

# wait_lines N DESC [TIMEOUT_MS]: polls until RECV_OUT has at least N lines,
# then asserts it has exactly N.
wait_lines() {
  local n=$1 desc=$2 ms=${3:-10000}
  if ! wait_until "$ms" _lines_ge "$n"; then
    pid_alive "$RECV_PID" || fail "$desc: the receiver (pid $RECV_PID) is gone; its stderr:
$(cat "$TEST_TMP/$RECV_NAME.err")"
    fail "$desc: the receiver got $(recv_count) replies within ${ms} ms, expected $n:
$(cat "$RECV_OUT")"
  fi
  assert_eq "$n" "$(recv_count)" "$desc"
}

# recv_get EXPR: evaluates the Python expression EXPR with L bound to the
# received bodies (a list of dicts, in arrival order by "_ts").
recv_get() {
  python3 -c 'import json, sys
L = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
L.sort(key=lambda o: o.get("_ts", 0))
v = eval(sys.argv[2], {"L": L})
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$RECV_OUT" "$1"
}

# assert_recv EXPR EXPECTED DESC
assert_recv() {
  local got
  got=$(recv_get "$1" 2>&1) || fail "$3: cannot evaluate $1 on the received replies: $got
$(cat "$RECV_OUT")"
  [[ "$got" == "$2" ]] || fail "$3: $1
  expected: $2
  actual:   $got
  received:
$(cat "$RECV_OUT")"
  pass "$3"
}

# last_text: the text of the latest reply.
last_text() {
  recv_get 'L[-1]["text"]'
}

# ---- gateway ----

# new_gateway NAME: a state directory and ports for the next gateway; sets
# GW_PORT, GW_MPORT, GW_CFG, BASE, MBASE, INBOUND_URL.
new_gateway() {
  new_state_dir "$1"
  GW_NAME=$1
  GW_PORT=$(free_port)
  GW_MPORT=$(free_port)
  GW_CFG="$TEST_TMP/$1.yaml"
  BASE="http://127.0.0.1:$GW_PORT"
  MBASE="http://127.0.0.1:$GW_MPORT"
  INBOUND_URL="$BASE/channels/webhook/inbound"
}

# write_config PROVIDER_KEYS CHANNEL_KEYS [TOP_LEVEL_YAML]: writes GW_CFG.
# PROVIDER_KEYS are more keys of the mock provider (indented 4 spaces),
# CHANNEL_KEYS more keys of channels.webhook (indented 4 spaces), and
# TOP_LEVEL_YAML further top-level sections. Replies go to RECV_URL.
write_config() {
  cat >"$GW_CFG" <<EOF
server:
  host: 127.0.0.1
  port: $GW_PORT
plugins:
  path: ["$OPENCLAW_TEST_BINARY_DIR/plugins"]
  load: [$GW_PLUGINS]
providers:
  - name: mock
    type: mock
$1
channels:
  webhook:
    secret: "$WH_SECRET"
    callbackUrl: "$RECV_URL"
$2
monitoring:
  metricsPort: $GW_MPORT
${3:-}
EOF
}

# gw_up: starts the gateway of GW_CFG (asserting it started).
gw_up() {
  start_daemon --config "$GW_CFG"
  pass "$GW_NAME: gateway started (pid $DAEMON_PID)"
}

# gw_down: stops the gateway of the current state directory.
gw_down() {
  oc gateway stop
  assert_rc 0 "$GW_NAME: gateway stop"
}

# ---- inbound ----

# jstr TEXT: TEXT as a JSON string literal (escapes \\, " and newlines;
# the tests use plain ASCII otherwise).
jstr() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

# body_json ID FROM CHAT_TYPE CHAT_ID TEXT [MEMBERS]: an inbound body;
# MEMBERS (JSON members such as '"mentioned": true') are appended.
body_json() {
  printf '{"id": %s, "from": %s, "chat": {"type": %s, "id": %s}, "text": %s%s}' \
    "$(jstr "$1")" "$(jstr "$2")" "$(jstr "$3")" "$(jstr "$4")" "$(jstr "$5")" "${6:+, $6}"
}

# sign BODY: the X-OpenClaw-Signature value for BODY under WH_SECRET.
sign() {
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha256=%s' "$(printf '%s' "$1" | openssl dgst -sha256 -hmac "$WH_SECRET" -r | cut -d' ' -f1)"
  else
    python3 -c 'import hashlib, hmac, sys
sys.stdout.write("sha256=" + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' \
      "$WH_SECRET" "$1"
  fi
}

# post_sig SIGNATURE BODY: posts BODY with that X-OpenClaw-Signature value
# ("" = no header); sets SEND_CODE and SEND_BODY.
post_sig() {
  local h=()
  [[ -n "$1" ]] && h=(-H "X-OpenClaw-Signature: $1")
  http POST "$INBOUND_URL" -H 'Content-Type: application/json' "${h[@]}" --data-binary "$2"
  SEND_CODE=$HTTP_CODE
  SEND_BODY=$HTTP_BODY
  [[ "$SEND_CODE" =~ ^[0-9]{3}$ ]] || fail "no answer from $INBOUND_URL: $SEND_CODE"
}

# post BODY: signs BODY correctly and posts it.
post() {
  post_sig "$(sign "$1")" "$1"
}

# dm ID FROM TEXT [MEMBERS]: a direct message; asserts 202 (stored).
dm() {
  post "$(body_json "$1" "$2" direct "$2" "$3" "${4:-}")"
  [[ "$SEND_CODE" == 202 ]] || fail "DM $1 from $2: inbound answered $SEND_CODE (expected 202): $SEND_BODY"
}

# group ID FROM GROUP TEXT [MEMBERS]: a group message; asserts 202.
group() {
  post "$(body_json "$1" "$2" group "$3" "$4" "${5:-}")"
  [[ "$SEND_CODE" == 202 ]] || fail "group message $1 in $3: inbound answered $SEND_CODE (expected 202): $SEND_BODY"
}

# post_many [--gap-ms N] BODY...: posts the bodies one after the other from
# one process (so they arrive in this order, a few ms apart; with --gap-ms,
# N ms apart: that paces the scenario's input, it waits for nothing); sets
# BURST_T0 (ms since the epoch, just before the first request) and BURST_MS
# (how long posting took); asserts every answer was 202.
post_many() {
  local out gap=0 c
  if [[ "${1:-}" == --gap-ms ]]; then
    gap=$2
    shift 2
  fi
  out=$(python3 - "$INBOUND_URL" "$WH_SECRET" "$gap" "$@" <<'PY'
import hashlib, hmac, sys, time, urllib.error, urllib.request
url, secret, gap = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
codes = []
t0 = time.time() * 1000.0
for i, b in enumerate(sys.argv[4:]):
    if i and gap:
        time.sleep(gap / 1000.0)
    body = b.encode()
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-OpenClaw-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            codes.append(r.status)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
t1 = time.time() * 1000.0
print("%.3f %.0f %s" % (t0, t1 - t0, " ".join(str(c) for c in codes)))
PY
  ) || fail "post_many: could not post to $INBOUND_URL"
  read -r BURST_T0 BURST_MS BURST_CODES <<<"$out"
  for c in $BURST_CODES; do
    [[ "$c" == 202 ]] || fail "post_many: an inbound answer was $c (all: $BURST_CODES), expected 202"
  done
}

# ---- metrics ----

# metric SERIES: the value of SERIES (name{labels} exactly as exposed, e.g.
# openclaw_messages_sent_total{channel="webhook",outcome="sent"}) on the
# metrics port, or "" when absent.
metric() {
  curl -s --max-time 5 "$MBASE/metrics" | awk -v s="$1" '$1 == s { print $2; exit }'
}

# metric_ge SERIES N: the series exists and is >= N.
metric_ge() {
  local v
  v=$(metric "$1")
  [[ -n "$v" ]] && awk -v a="$v" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

# wait_metric SERIES N DESC [TIMEOUT_MS]: polls until SERIES >= N.
wait_metric() {
  wait_until "${4:-10000}" metric_ge "$1" "$2" || fail "$3: $1 did not reach $2 (now: '$(metric "$1")')"
  pass "$3"
}

# metric_sum NAME: the sum of every series of NAME (0 when absent).
metric_sum() {
  curl -s --max-time 5 "$MBASE/metrics" | awk -v n="$1" '
    index($1, n "{") == 1 || $1 == n { s += $2 } END { printf "%g\n", s + 0 }'
}
