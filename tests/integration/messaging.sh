#!/usr/bin/env bash
# messaging.sh - the messaging core end to end (SPEC §6-§7, reference §4 and
# §12 targets 28-30, 32): DM pairing and `openclaw pairing`, the other DM
# policies, sessions (history, resets, dmScope), bad inbound requests on
# /channels/webhook/inbound, /hooks/agent, outbound retries and
# /health/detailed. Real binary, real plugins (channel-webhook, provider-mock,
# storage-sqlite), a fake receiver for the replies. Groups: groups.sh;
# queue modes and concurrency: queue.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=msg_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/msg_lib.sh"

TURNS='openclaw_agent_turns_total'
PAIR_CREATED='openclaw_pairing_requests_total{channel="webhook",outcome="created"}'
PAIR_EXISTING='openclaw_pairing_requests_total{channel="webhook",outcome="existing"}'
PAIR_LIMITED='openclaw_pairing_requests_total{channel="webhook",outcome="limited"}'
ALPHABET_RE='^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$'

# expect_reply N TEXT DESC: the N-th reply arrives, and it is TEXT.
expect_reply() {
  wait_lines "$1" "$3: reply $1 arrived (and no other)"
  assert_eq "$2" "$(last_text)" "$3"
}

# pairing_code: the code in the latest reply ("Pairing code: XXXXXXXX").
pairing_code() {
  sed -n 's/^Pairing code: //p' <<<"$(last_text)"
}

# =====================================================================
# 1. DM pairing (dmPolicy pairing, the default) and `openclaw pairing`
# =====================================================================
start_receiver pairing
new_gateway pairing
# "owner" is in allowFrom: its messages are answered and serve as barriers
# (dmScope main: every DM shares one lane, processed in arrival order).
write_config "" '    allowFrom: ["owner"]' "$FOLLOWUP"
gw_up

# ---- /health/detailed ----
http GET "$BASE/health/detailed"
assert_status 200 "health: GET /health/detailed"
assert_json "$HTTP_BODY" 'isinstance(j.get("queue"), dict)' true 'health: /health/detailed has a "queue" object'
assert_json "$HTTP_BODY" 'sorted(k for k in ("running", "maxConcurrent", "queued") if k in j["queue"])' \
  '["maxConcurrent", "queued", "running"]' "health: queue has running, maxConcurrent, queued"
assert_json "$HTTP_BODY" 'j["channels"]' '{"webhook": "connected"}' 'health: channels is {"webhook":"connected"}'

# ---- the first DM of an unknown sender: one reply with a code ----
dm p1 u1 "hello there"
wait_lines 1 "pairing: an unknown sender's DM gets exactly one reply"
text=$(last_text)
CODE1=$(pairing_code)
assert_match "$CODE1" "$ALPHABET_RE" "pairing: the code is 8 characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
assert_contains "$text" "openclaw pairing approve webhook $CODE1" \
  "pairing: the reply says 'openclaw pairing approve webhook <CODE>'"
assert_contains "$text" "u1" "pairing: the reply names the sender id"
assert_not_contains "$text" "mock:" "pairing: the reply is not an agent answer"
assert_recv 'L[0]["to"]' '{"id": "u1", "type": "direct"}' "pairing: the code goes to the sender (direct u1)"
assert_recv 'L[0]["inReplyTo"]' p1 "pairing: the code reply is inReplyTo the DM"
wait_metric "$PAIR_CREATED" 1 "pairing: openclaw_pairing_requests_total{outcome=created} is 1"
assert_eq 0 "$(metric_sum "$TURNS")" "pairing: no agent turn ran (openclaw_agent_turns_total absent or 0)"

# ---- a second DM within the hour: no new code ----
dm p2 u1 "hello again"
wait_metric "$PAIR_EXISTING" 1 "pairing: the second DM finds the existing request"
assert_eq 1 "$(recv_count)" "pairing: a second DM from the same sender yields no new reply"
assert_eq 0 "$(metric_sum "$TURNS")" "pairing: still no agent turn after the second DM"

# ---- the cap: 3 pending per account ----
dm p3 u2 "hi, I am u2"
wait_lines 2 "pairing: sender u2 gets a code"
CODE2=$(pairing_code)
assert_match "$CODE2" "$ALPHABET_RE" "pairing: u2's code has the pairing format"
dm p4 u3 "hi, I am u3"
wait_lines 3 "pairing: sender u3 gets a code"
CODE3=$(pairing_code)
assert_match "$CODE3" "$ALPHABET_RE" "pairing: u3's code has the pairing format"
[[ "$CODE1" != "$CODE2" && "$CODE1" != "$CODE3" && "$CODE2" != "$CODE3" ]] ||
  fail "pairing: the three codes are not distinct: $CODE1 $CODE2 $CODE3"
pass "pairing: the three pending codes are distinct"
dm p5 u4 "hi, I am u4"
wait_metric "$PAIR_LIMITED" 1 "pairing: the 4th distinct sender hits the cap (outcome=limited)"
# Barrier: the owner's DM, behind u4's in the same lane, is answered.
dm p6 owner "barrier one"
expect_reply 4 "mock: barrier one" "pairing: the 4th distinct sender got no code (cap 3); the owner is answered"
assert_recv '[o["to"]["id"] for o in L]' '["u1", "u2", "u3", "owner"]' \
  "pairing: replies went to u1, u2, u3 and the owner only"

# ---- openclaw pairing list ----
oc pairing list --config "$GW_CFG"
assert_rc 0 "pairing list: exit 0 while the gateway runs"
for c in "$CODE1" "$CODE2" "$CODE3"; do
  assert_contains "$RUN_OUT" "$c" "pairing list shows code $c"
done
assert_match "$RUN_OUT" 'webhook +default +[A-Z2-9]{8} +u1 ' "pairing list: a row with channel, account, code, sender"
assert_not_contains "$RUN_OUT" "u4" "pairing list: the capped sender u4 has no request"
oc pairing list --json --config "$GW_CFG"
assert_rc 0 "pairing list --json: exit 0"
assert_json "$RUN_OUT" 'sorted(r["senderId"] for r in j)' '["u1", "u2", "u3"]' "pairing list --json: pending senders u1, u2, u3"
assert_json "$RUN_OUT" 'sorted(r["code"] for r in j) == sorted(["'"$CODE1"'", "'"$CODE2"'", "'"$CODE3"'"])' true \
  "pairing list --json: the codes are those sent"
assert_json "$RUN_OUT" 'all(r["channel"] == "webhook" and r["account"] == "default" and r["expiresAt"] - r["createdAt"] == 3600000 for r in j)' \
  true "pairing list --json: channel webhook, account default, valid 1 h"
oc pairing list webhook --json --config "$GW_CFG"
assert_json "$RUN_OUT" 'len(j)' 3 "pairing list webhook --json: filtered by channel"

# ---- approve (lower-case code) while the gateway runs ----
oc pairing approve webhook "${CODE1,,}" --config "$GW_CFG"
assert_rc 0 "pairing approve webhook <lower-case code> while the gateway runs"
assert_contains "$RUN_OUT" "Approved u1" "pairing approve says whom it approved"
dm p7 u1 "after approval"
expect_reply 5 "mock: after approval" "pairing: the approved sender's next message is answered by the agent"
assert_recv 'L[-1]["to"]["id"]' u1 "pairing: the answer goes to u1"
oc pairing list --json --config "$GW_CFG"
assert_json "$RUN_OUT" 'sorted(r["senderId"] for r in j)' '["u2", "u3"]' "pairing list: u1's request is gone after approval"

# ---- approve: errors ----
oc pairing approve webhook "$CODE1" --config "$GW_CFG"
assert_ne 0 "$RUN_RC" "pairing approve of an already used code exits non-zero"
oc pairing approve webhook ZZZZZZZZ --config "$GW_CFG"
assert_ne 0 "$RUN_RC" "pairing approve of an unknown code exits non-zero"
assert_contains "$RUN_ERR" "no pending request with code ZZZZZZZZ" "pairing approve of an unknown code says so"
oc pairing approve webhook abc --config "$GW_CFG"
assert_rc 2 "pairing approve with a malformed code is a usage error (exit 2)"
assert_contains "$RUN_ERR" "is not a pairing code" "pairing approve with a malformed code says why"

# An approval freed a slot: a new sender gets a code again.
dm p8 u5 "hi, I am u5"
wait_lines 6 "pairing: with 2 pending, a new sender gets a code again"
CODE5=$(pairing_code)
assert_match "$CODE5" "$ALPHABET_RE" "pairing: u5's code has the pairing format"

# ---- approve with the gateway stopped ----
gw_down
oc pairing approve webhook "$CODE2" --config "$GW_CFG"
assert_rc 0 "pairing approve while the gateway is stopped"
assert_contains "$RUN_OUT" "Approved u2" "pairing approve (stopped) approved u2"
gw_up
dm p9 u2 "back again"
expect_reply 7 "mock: back again" "pairing: approved while stopped, u2 is answered after the restart"
dm p10 u3 "still waiting"
dm p11 owner "barrier two"
expect_reply 8 "mock: barrier two" "pairing: u3 (still pending) gets neither a new code nor an answer"
gw_down

# =====================================================================
# 2. Other DM policies (and dmScope main)
# =====================================================================
# ---- allowlist: only allowFrom answered, others dropped silently ----
# The mock answers "{{count}}|{{last}}": a dropped DM must not even enter the
# session's history. dmScope main (the default): one session for every DM.
start_receiver allowlist
new_gateway allowlist
write_config '    reply: "{{count}}|{{last}}"' '    dmPolicy: allowlist
    allowFrom: ["alice", "carol"]' "$FOLLOWUP"
gw_up
dm a1 bob "hi from bob"
dm a2 alice "hi from alice"
expect_reply 1 "2|hi from alice" "allowlist: alice (in allowFrom) is answered; bob's DM is not in the history"
assert_recv '[o["to"]["id"] for o in L]' '["alice"]' "allowlist: bob (not in allowFrom) got nothing at all"
wait_metric "$DROPPED_POLICY" 1 "allowlist: bob's DM counted as dropped by policy"
assert_eq 0 "$(metric_sum openclaw_pairing_requests_total)" "allowlist: no pairing request for bob"
dm a3 carol "hello from carol"
expect_reply 2 "4|hello from carol" "dmScope main: carol shares the one DM session (count 4)"
dm a4 bob "bob again"
dm a5 alice "alice again"
expect_reply 3 "6|alice again" "dmScope main: alice again (count 6); bob's second DM dropped too"
assert_recv '[o["to"]["id"] for o in L]' '["alice", "carol", "alice"]' "dmScope main: each answer goes to its sender"
oc pairing list --json --config "$GW_CFG"
assert_json "$RUN_OUT" 'len(j)' 0 "allowlist: pairing list is empty"
gw_down

# ---- open requires "*" in allowFrom ----
new_gateway open-bad
write_config "" '    dmPolicy: open
    allowFrom: ["alice"]'
oc gateway validate --config "$GW_CFG"
assert_rc 78 "open: gateway validate with dmPolicy open and no \"*\" in allowFrom exits 78"
assert_contains "$RUN_OUT$RUN_ERR" "dmPolicy" "open: the validation error names dmPolicy"
assert_contains "$RUN_OUT$RUN_ERR" '"*"' "open: the validation error says \"*\" is required"
assert_match "$RUN_OUT$RUN_ERR" "open-bad\.yaml:[0-9]+:[0-9]+" "open: the validation error has file:line:column"
oc gateway start --daemon --config "$GW_CFG"
assert_rc 78 "open: gateway start with dmPolicy open and no \"*\" exits 78"
write_config "" '    dmPolicy: open'
oc gateway validate --config "$GW_CFG"
assert_rc 78 "open: dmPolicy open without any allowFrom exits 78"
write_config "" '    dmPolicy: open
    allowFrom: ["*"]'
oc gateway validate --config "$GW_CFG"
assert_rc 0 "open: dmPolicy open with allowFrom [\"*\"] validates"
# (open with "*" answering anyone: section 7 below)

# ---- disabled: no DM answered (even from allowFrom) ----
start_receiver disabled
new_gateway disabled
write_config "" '    dmPolicy: disabled
    allowFrom: ["alice"]
    groupPolicy: open
    groups:
      "*": {requireMention: false}' "$FOLLOWUP"
gw_up
dm d1 alice "dm from alice"
dm d2 bob "dm from bob"
wait_metric "$DROPPED_POLICY" 2 "disabled: both DMs dropped by policy"
# Barrier: a group message (groups stay open) is answered.
group d3 alice g1 "group still works"
expect_reply 1 "mock: group still works" "disabled: no DM answered; a group message still is"
assert_recv 'L[0]["to"]' '{"id": "g1", "type": "group"}' "disabled: the only reply went to the group"
assert_eq 0 "$(metric_sum openclaw_pairing_requests_total)" "disabled: no pairing requests"
gw_down

# =====================================================================
# 4. Sessions: history, resets, dmScope; 6. bad inbound requests
# =====================================================================
# The mock answers {{count}}: the messages in the request = 1 system + the
# history + the new message; each answered turn adds user + assistant.
start_receiver sessions
new_gateway sessions
write_config '    reply: "{{count}}"' '    dmPolicy: open
    allowFrom: ["*"]
    maxBodyBytes: 4096' "$FOLLOWUP
session:
  dmScope: per-peer"
gw_up
dm s1 u1 "one"
expect_reply 1 2 "sessions: first message of u1: count 2 (system + message)"
dm s2 u1 "two"
expect_reply 2 4 "sessions: second message of u1: count 4 (history grows by user + assistant)"
dm s3 u1 "three"
expect_reply 3 6 "sessions: third message of u1: count 6"
dm s4 u2 "hi"
expect_reply 4 2 "sessions: dmScope per-peer: u2 has its own session (count 2)"
assert_recv 'L[-1]["to"]["id"]' u2 "sessions: u2's answer goes to u2"
dm s5 u1 "/new"
expect_reply 5 "New session started." 'sessions: "/new" is answered "New session started."'
dm s6 u1 "after reset"
expect_reply 6 2 "sessions: after /new the count restarts at 2"
dm s7 u2 "again"
expect_reply 7 4 "sessions: u1's reset left u2's session alone (count 4)"
dm s8 u1 "/reset and go on"
expect_reply 8 2 'sessions: "/reset <text>" resets and answers the text in a fresh session (count 2)'
dm s9 u1 "then"
expect_reply 9 4 "sessions: the session goes on after /reset <text> (count 4)"

# ---- the session keys ----
# A /hooks/agent run given a DM's session key sees that DM's history.
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "probe", "sessionKey": "agent:main:direct:u1"}'
assert_status 200 "session key: /hooks/agent in agent:main:direct:u1"
assert_json "$HTTP_BODY" 'j["reply"]' 6 "session key: dmScope per-peer keys u1's DMs agent:main:direct:u1 (history 4 + 2)"
dm s10 U-Mixed "case"
expect_reply 10 2 "session key: a mixed-case sender gets its own session"
assert_recv 'L[-1]["to"]["id"]' U-Mixed "session key: the answer goes to the sender id as given (U-Mixed)"
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "probe", "sessionKey": "agent:main:direct:u-mixed"}'
assert_json "$HTTP_BODY" 'j["reply"]' 4 "session key: the key is lower-cased (agent:main:direct:u-mixed)"

# ---- 6. bad inputs: status, reason, no reply, storage consistent ----
dm b0 u7 "before the bad inputs"
expect_reply 11 2 "bad input: u7's first message (count 2)"
ZEROS=0000000000000000000000000000000000000000000000000000000000000000
post_sig "sha256=$ZEROS" "$(body_json b-good u7 direct u7 "bad signature")"
assert_eq 401 "$SEND_CODE" "bad input: a wrong signature gets 401"
assert_json "$SEND_BODY" 'j["accepted"] is False and j["error"] == "invalid signature"' true \
  'bad input: 401 body {"accepted":false,"error":"invalid signature"}'
post_sig "sha256=xyz" "$(body_json b-good u7 direct u7 "bad signature")"
assert_eq 401 "$SEND_CODE" "bad input: a malformed signature header gets 401"
assert_json "$SEND_BODY" 'j["error"]' "malformed X-OpenClaw-Signature header: expected sha256=<64 hex digits>" \
  "bad input: the malformed signature's reason"
post_sig "" "$(body_json b-good u7 direct u7 "no signature")"
assert_eq 401 "$SEND_CODE" "bad input: a missing signature gets 401"
assert_json "$SEND_BODY" 'j["error"]' "missing X-OpenClaw-Signature header" "bad input: the missing signature's reason"
post '{"id": "b2", "from": "u7", "chat": {"type": "direct"'
assert_eq 400 "$SEND_CODE" "bad input: malformed JSON gets 400"
assert_json "$SEND_BODY" 'j["error"].startswith("malformed JSON")' true "bad input: the reason starts with 'malformed JSON'"
post '{"id": "b3", "chat": {"type": "direct", "id": "u7"}, "text": "no sender"}'
assert_eq 400 "$SEND_CODE" "bad input: a missing 'from' gets 400"
assert_json "$SEND_BODY" 'j["error"]' "missing field 'from'" "bad input: the reason names the field 'from'"
post '{"id": "b4", "from": "u7", "chat": {"type": "direct"}, "text": "no chat id"}'
assert_eq 400 "$SEND_CODE" "bad input: a missing 'chat.id' gets 400"
assert_json "$SEND_BODY" 'j["error"]' "missing field 'chat.id'" "bad input: the reason names the field 'chat.id'"
post '{"id": "b5", "from": "u7", "chat": {"type": "direct", "id": "u7"}}'
assert_eq 400 "$SEND_CODE" "bad input: a missing 'text' gets 400"
assert_json "$SEND_BODY" 'j["error"]' "missing field 'text'" "bad input: the reason names the field 'text'"
post '{"from": "u7", "chat": {"type": "direct", "id": "u7"}, "text": "no id"}'
assert_eq 400 "$SEND_CODE" "bad input: a missing 'id' gets 400"
assert_json "$SEND_BODY" 'j["error"]' "missing field 'id'" "bad input: the reason names the field 'id'"
big=$(head -c 5000 /dev/zero | tr '\0' 'x')
post "$(body_json b6 u7 direct u7 "$big")"
assert_eq 413 "$SEND_CODE" "bad input: a body over channels.webhook.maxBodyBytes (4096) gets 413"
assert_json "$SEND_BODY" '"body too large" in j["error"] and "4096" in j["error"]' true \
  "bad input: the 413 reason says body too large (maxBodyBytes 4096)"
post "$(body_json b7 u7 direct u7 "unknown account" '"account": "nope"')"
assert_eq 400 "$SEND_CODE" "bad input: an unknown account gets 400"
assert_json "$SEND_BODY" 'j["error"]' "unknown account 'nope' (configured: default)" \
  "bad input: the reason names the unknown account and lists the configured ones"
http GET "$INBOUND_URL"
assert_status 405 "bad input: GET /channels/webhook/inbound gets 405"
assert_eq POST "$(header allow)" "bad input: the 405 has Allow: POST"
http PUT "$INBOUND_URL" -H 'Content-Type: application/json' --data '{}'
assert_status 405 "bad input: PUT /channels/webhook/inbound gets 405"
# The id refused with a bad signature above was not stored: it is new now.
dm b-good u7 "after the bad inputs"
assert_json "$SEND_BODY" 'j["accepted"] is True and "duplicate" not in j' true \
  "bad input: an id first refused (bad signature) is accepted later as new"
expect_reply 12 4 "bad input: the next good message works and none of the bad ones entered the history (count 4)"
assert_recv '[o["inReplyTo"] for o in L if o["to"]["id"] == "u7"]' '["b0", "b-good"]' \
  "bad input: no reply was produced for any refused request"

# ---- duplicate id ----
dm b8 u7 "only once"
expect_reply 13 6 "duplicate: the first delivery of b8 is answered (count 6)"
post "$(body_json b8 u7 direct u7 "only once")"
assert_eq 200 "$SEND_CODE" "duplicate: the same id again gets 200"
assert_json "$SEND_BODY" 'j' '{"accepted": true, "duplicate": true}' 'duplicate: body {"accepted":true,"duplicate":true}'
dm b9 u7 "after the duplicate"
expect_reply 14 8 "duplicate: b8 was answered once and entered the history once (next count 8)"
assert_recv '[o["inReplyTo"] for o in L].count("b8")' 1 "duplicate: exactly one reply to b8"
assert_eq 1 "$(metric 'openclaw_messages_received_total{channel="webhook",outcome="duplicate"}')" \
  "duplicate: openclaw_messages_received_total{outcome=duplicate} is 1"
gw_down

# ---- dmScope per-account-channel-peer, two accounts ----
# Each account has its own receiver: replies go back to the account the
# message came in on; the dedupe key includes the account.
start_receiver accounts-ops
OPS_URL=$RECV_URL
OPS_OUT=$RECV_OUT
start_receiver accounts
DEFAULT_OUT=$RECV_OUT
new_gateway accounts
write_config '    reply: "{{count}}"' '    dmPolicy: open
    allowFrom: ["*"]
    accounts:
      default: {}
      ops: {callbackUrl: "'"$OPS_URL"'"}' "$FOLLOWUP
session:
  dmScope: per-account-channel-peer"
gw_up
dm x1 u1 "on default"
expect_reply 1 2 "accounts: u1 on the default account (count 2)"
RECV_OUT=$OPS_OUT
dm x2 u1 "on ops" '"account": "ops"'
expect_reply 1 2 "accounts: u1 on account ops has a separate session (count 2), answered to ops' callbackUrl"
dm x1 u1 "same id, other account" '"account": "ops"'
expect_reply 2 4 "accounts: the same message id on another account is not a duplicate (count 4)"
assert_recv '[o["inReplyTo"] for o in L]' '["x2", "x1"]' "accounts: ops' receiver got exactly ops' replies"
RECV_OUT=$DEFAULT_OUT
assert_eq 1 "$(recv_count)" "accounts: the default receiver got only the default account's reply"
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "probe", "sessionKey": "agent:main:webhook:ops:direct:u1"}'
assert_json "$HTTP_BODY" 'j["reply"]' 6 "session key: per-account-channel-peer keys agent:main:webhook:ops:direct:u1 (history 4 + 2)"
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "probe", "sessionKey": "agent:main:webhook:default:direct:u1"}'
assert_json "$HTTP_BODY" 'j["reply"]' 4 "session key: agent:main:webhook:default:direct:u1 (history 2 + 2)"
gw_down

# =====================================================================
# 7. open DMs, /hooks/agent and 8. outbound retry (one gateway)
# =====================================================================
# The receiver refuses its first 2 deliveries (HTTP 500): the first reply
# (r1) is retried by the outbox with backoff (1 s, then 2 s); the /hooks/agent
# checks that deliver nothing run meanwhile.
HOOK_KEY="it-messaging-hooks-key-8e1f"
SENT='openclaw_messages_sent_total{channel="webhook",outcome="sent"}'
RETRIED='openclaw_messages_sent_total{channel="webhook",outcome="retry"}'
start_receiver open --fail-first 2
new_gateway open
GW_PLUGINS="storage-sqlite, auth-apikey, channel-webhook, provider-mock"
write_config "" '    dmPolicy: open
    allowFrom: ["*"]' "$FOLLOWUP
auth:
  apiKey: \"$HOOK_KEY\""
gw_up
dm r1 zed "retry me"

# ---- /hooks/agent ----
AUTHH=(-H "Authorization: Bearer $HOOK_KEY" -H 'Content-Type: application/json')
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' --data '{"message": "ping"}'
assert_status 401 "hooks: POST /hooks/agent without credentials gets 401 (auth.apiKey set)"
http POST "$BASE/hooks/agent" -H "Authorization: Bearer wrong-key" --data '{"message": "ping"}'
assert_status 401 "hooks: POST /hooks/agent with a wrong key gets 401"
http POST "$BASE/hooks/agent" "${AUTHH[@]}" --data '{"message": "ping"}'
assert_status 200 "hooks: POST /hooks/agent with the key gets 200"
assert_json "$HTTP_BODY" 'j["ok"]' true 'hooks: body has "ok": true'
assert_json "$HTTP_BODY" 'j["reply"]' "mock: ping" 'hooks: body has "reply": "mock: ping"'
assert_json "$HTTP_BODY" 'j["sessionKey"]' "agent:main:main" "hooks: the default session is agent:main:main"
assert_json "$HTTP_BODY" 'j["delivered"]' false "hooks: not delivered without deliver"
http POST "$BASE/hooks/agent" "${AUTHH[@]}" --data '{"agentId": "main"}'
assert_status 400 "hooks: a missing message gets 400"
assert_json "$HTTP_BODY" 'j["ok"] is False and "message" in j["error"]["message"]' true "hooks: the 400 names \"message\""
http POST "$BASE/hooks/agent" "${AUTHH[@]}" --data '{"message": '
assert_status 400 "hooks: bad JSON gets 400"
assert_json "$HTTP_BODY" '"not a JSON object" in j["error"]["message"]' true "hooks: the 400 says the body is not a JSON object"
http POST "$BASE/hooks/agent" "${AUTHH[@]}" --data '{"message": "x", "agentId": "nope"}'
assert_status 400 "hooks: an unknown agentId gets 400"
assert_json "$HTTP_BODY" 'j["error"]["message"]' "unknown agentId" "hooks: the 400 says unknown agentId"
http POST "$BASE/hooks/agent" "${AUTHH[@]}" --data '{"message": "x", "deliver": true, "to": "u9"}'
assert_status 400 "hooks: deliver without channel gets 400"
assert_json "$HTTP_BODY" '"channel" in j["error"]["message"]' true "hooks: the 400 names \"channel\""
http POST "$BASE/hooks/agent?token=$HOOK_KEY" -H 'Content-Type: application/json' --data '{"message": "x"}'
assert_ne 200 "$HTTP_CODE" "hooks: a token in the query string is not accepted"

# ---- 8. the retried reply ----
wait_lines 1 "retry: r1's reply arrives after 2 refused attempts, once (the receiver records 2xx only)" 20000
assert_recv 'L[0]["text"]' "mock: retry me" "retry: the delivered reply is the answer to r1"
assert_recv 'L[0]["idempotencyKey"].startswith("reply:")' true "retry: the idempotency key is reply:<inbox id>"
wait_metric "$SENT" 1 "retry: outcome=sent counted"
assert_eq 1 "$(metric "$SENT")" "retry: openclaw_messages_sent_total{outcome=sent} is exactly 1"
metric_ge "$RETRIED" 2 || fail "retry: $RETRIED is '$(metric "$RETRIED")', expected >= 2"
pass "retry: openclaw_messages_sent_total{channel=\"webhook\",outcome=\"retry\"} >= 2 ($(metric "$RETRIED"))"

# ---- open: anyone is answered ----
dm o1 yan "anyone there"
expect_reply 2 "mock: anyone there" "open: any sender is answered (allowFrom [\"*\"])"
assert_recv 'L[1]["to"]["id"]' yan "open: the answer goes to yan"
assert_eq 0 "$(metric_sum openclaw_pairing_requests_total)" "open: no pairing requests"

# ---- /hooks/agent with delivery ----
http POST "$BASE/hooks/agent" "${AUTHH[@]}" \
  --data '{"message": "deliver me", "deliver": true, "channel": "webhook", "to": "u9"}'
assert_status 200 "hooks: deliver:true with channel webhook and to u9 gets 200"
assert_json "$HTTP_BODY" 'j["ok"] is True and j["reply"] == "mock: deliver me" and j["delivered"] is True' true \
  "hooks: the delivering run answers ok, its reply, delivered true"
run_id=$(json_get "$HTTP_BODY" 'j["runId"]')
wait_lines 3 "hooks: the receiver gets the delivered reply"
assert_recv 'L[2]["to"]' '{"id": "u9", "type": "direct"}' "hooks: delivered to direct u9"
assert_recv 'L[2]["text"]' "mock: deliver me" "hooks: the delivered text is the reply"
assert_recv 'L[2]["idempotencyKey"]' "hook:$run_id" "hooks: the idempotency key is hook:<runId>"

# ---- nothing more arrives ----
outbox_idle() {
  http GET "$BASE/health/detailed"
  [[ "$HTTP_CODE" == 200 ]] && [[ "$(json_get "$HTTP_BODY" 'j["queue"]["outboxInFlight"]')" == 0 ]]
}
wait_until 5000 outbox_idle || fail "the outbox did not become idle: $HTTP_BODY"
assert_eq 3 "$(metric "$SENT")" "open: 3 deliveries sent in all"
assert_recv '[o["idempotencyKey"] for o in L].count(L[0]["idempotencyKey"])' 1 \
  "retry: the retried reply was recorded exactly once"
assert_eq 3 "$(recv_count)" "open: the receiver recorded exactly 3 replies"
gw_down
GW_PLUGINS="storage-sqlite, channel-webhook, provider-mock"

finish
