#!/usr/bin/env bash
# webhook_e2e.sh - channel-webhook in the real gateway: signed inbound
# messages (202, duplicate 200, 401/400/405/413), the reply from the mock
# provider POSTed back to tests/support/webhook_receiver.py, signed, after
# the gateway's outbox retried a 500. Needs bin/openclaw and the
# storage-sqlite, auth-apikey, provider-mock and channel-webhook plugins;
# exits 77 (skipped) without the last two.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source-path=SCRIPTDIR source=../../integration/lib.sh
source "$here/../../integration/lib.sh"
support="$here/../../support"

for p in provider-mock channel-webhook; do
  if [[ ! -f "$OPENCLAW_TEST_BINARY_DIR/plugins/$p.so" ]]; then
    echo "SKIP: $p.so is not built"
    exit 77
  fi
done

SECRET="it-webhook-secret-0b9e"
OUT="$TEST_TMP/replies.jsonl"
python3 "$support/webhook_receiver.py" --port 0 --secret "$SECRET" --out "$OUT" \
  --fail-first 1 >"$TEST_TMP/receiver.port" &
track_pid $!
wait_until 5000 test -s "$TEST_TMP/receiver.port" || fail "the receiver printed no port"
read -r _ RPORT <"$TEST_TMP/receiver.port"

PORT=$(free_port)
MPORT=$(free_port)
CFG="$TEST_TMP/gateway.yaml"
cat >"$CFG" <<YAML
server:
  host: 127.0.0.1
  port: $PORT
auth:
  apiKey: "it-webhook-api-key-77c1d2"
monitoring:
  metricsPort: $MPORT
plugins:
  load: [auth-apikey, storage-sqlite, provider-mock, channel-webhook]
providers:
  - name: mock
    type: mock
    reply: "mock: {{last}}"
agents:
  defaults:
    model:
      primary: mock/echo
channels:
  webhook:
    secret: "$SECRET"
    callbackUrl: "http://127.0.0.1:$RPORT/replies"
    maxBodyBytes: 2048
    dmPolicy: open
    allowFrom: ["*"]
YAML
URL="http://127.0.0.1:$PORT/channels/webhook/inbound"
start_daemon --config "$CFG"
pass "gateway with channel-webhook started (pid $DAEMON_PID)"

send() { run python3 "$support/webhook_send.py" "$@"; }
status_of() { head -n 1 <<<"$RUN_OUT"; }
body_of() { tail -n +2 <<<"$RUN_OUT"; }

MSG='{"id":"m1","from":"u1","chat":{"type":"direct","id":"u1"},"text":"hello"}'
send "$URL" "$SECRET" "$MSG"
assert_eq 202 "$(status_of)" "signed message accepted (no gateway API key needed)"
assert_json "$(body_of)" 'j["accepted"] and j["id"].isdigit()' true "202 body has the inbox id"

send "$URL" "$SECRET" "$MSG"
assert_eq 200 "$(status_of)" "the same id again"
assert_json "$(body_of)" 'j' '{"accepted": true, "duplicate": true}' "duplicate body"

send "$URL" wrong-secret '{broken'
assert_eq 401 "$(status_of)" "wrong signature on a malformed body is 401, not 400"
assert_json "$(body_of)" 'j["error"]' "invalid signature" "401 says nothing about the body"

send "$URL" "$SECRET" '{"id":"m2","from":"u1","chat":{"type":"direct"},"text":"x"}'
assert_eq 400 "$(status_of)" "signed message without chat.id"
assert_json "$(body_of)" 'j["error"]' "missing field 'chat.id'" "400 names the field"

big=$(python3 -c 'print("{\"pad\":\"" + "x" * 3000 + "\"}")')
send "$URL" "$SECRET" "$big"
assert_eq 413 "$(status_of)" "body over maxBodyBytes"

http GET "$URL"
assert_status 405 "GET on the inbound route"
assert_eq POST "$(header allow)" "405 carries Allow: POST"

# The reply: the receiver fails the first delivery (500); the outbox retries.
wait_until 15000 test -s "$OUT" || fail "no reply reached the receiver within 15 s"
reply=$(head -n 1 "$OUT")
assert_json "$reply" 'j["to"]' '{"id": "u1", "type": "direct"}' "reply goes to the sender's chat"
assert_json "$reply" 'j["text"]' "mock: hello" "reply text from the mock provider"
assert_json "$reply" 'j["inReplyTo"]' m1 "reply names the message it answers"
assert_json "$reply" 'list(j.keys())' '["to", "text", "inReplyTo", "idempotencyKey"]' \
  "reply members in wire order"
assert_eq 1 "$(wc -l <"$OUT")" "delivered once (the 500 was retried, not duplicated)"
finish
