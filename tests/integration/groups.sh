#!/usr/bin/env bash
# groups.sh - group messages end to end (SPEC §7 "Groups", reference §4
# "Group mention gating", §12 targets 31-32): groupPolicy allowlist / open /
# disabled, groupAllowFrom, requireMention (default true, per group), and
# what counts as a mention: the platform's flag ("mentioned": true),
# channels.webhook.mentionPatterns, agents.list[].groupChat.mentionPatterns
# and a reply to the bot. An unmentioned message is not answered but kept as
# context: the mock answers "{{count}}|{{last}}" ({{count}} = 1 system + the
# history + the new message), so the count of the next answer shows it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=msg_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/msg_lib.sh"


# expect_reply N TEXT DESC: the N-th reply arrives, and it is TEXT.
expect_reply() {
  wait_lines "$1" "$3: reply $1 arrived (and no other)"
  assert_eq "$2" "$(last_text)" "$3"
}

# =====================================================================
# groupPolicy allowlist with groupAllowFrom; mentions
# =====================================================================
# dmPolicy is left at its default (pairing): group messages never go
# through pairing.
start_receiver allowlist
new_gateway allowlist
write_config '    reply: "{{count}}|{{last}}"' '    groupPolicy: allowlist
    groupAllowFrom: ["g-team", "g-open"]
    groups:
      "g-open": {requireMention: false}
    mentionPatterns: ["^hey bot"]' "$FOLLOWUP
agents:
  list:
    - id: main
      default: true
      groupChat:
        mentionPatterns: [\"@?clawbot\"]"
gw_up

# ---- g-team: requireMention (default true) ----
group c1 s1 g-team "just chatting"
group c2 s2 g-team "first question" '"mentioned": true'
expect_reply 1 "3|first question" \
  'mention: "mentioned": true is answered, and the unmentioned message before it was kept as context (count 3)'
assert_recv 'L[0]["to"]' '{"id": "g-team", "type": "group"}' "mention: the answer goes to the group"
assert_recv 'L[0]["inReplyTo"]' c2 "mention: the answer is inReplyTo the mentioned message"
group c3 s1 g-team "another aside"
group c4 s3 g-team "hey bot, status?"
expect_reply 2 "6|hey bot, status?" \
  "mention: channels.webhook.mentionPatterns (^hey bot) triggers an answer; the aside was context (count 6)"
group c5 s3 g-team "HEY BOT again"
expect_reply 3 "8|HEY BOT again" "mention: mentionPatterns are case-insensitive"
group c6 s2 g-team "ping @clawbot please"
expect_reply 4 "10|ping @clawbot please" "mention: agents.list[].groupChat.mentionPatterns (@?clawbot) triggers an answer"
group c7 s1 g-team "thanks" '"replyTo": "x-1", "replyToBot": true'
expect_reply 5 "12|thanks" 'mention: a reply to the bot ("replyToBot": true) triggers an answer'
# Not mentions: other users in "mentions" (the platform's flag for the bot is
# "mentioned"), and a pattern anchored at the start matched mid-text.
group c8 s2 g-team "hello carol" '"mentions": ["carol"]'
group c9 s3 g-team "so I said hey bot"
group c10 s1 g-team "clawbot?"
expect_reply 6 "16|clawbot?" \
  'mention: "mentions" of another user and "^hey bot" mid-text are not mentions, but are kept as context (count 16)'
assert_recv '[o["inReplyTo"] for o in L]' '["c2", "c4", "c5", "c6", "c7", "c10"]' \
  "mention: exactly the mentioned messages were answered"

# ---- g-open: groups."g-open".requireMention false ----
group o1 s1 g-open "no mention here"
expect_reply 7 "2|no mention here" 'requireMention false: an unmentioned message in g-open is answered'
group o2 s2 g-open "still none"
expect_reply 8 "4|still none" "requireMention false: every message in g-open is answered (its own session, count 4)"
assert_recv 'L[7]["to"]' '{"id": "g-open", "type": "group"}' "requireMention false: the answer goes to g-open"

# ---- g-other: not in groupAllowFrom ----
group x1 s1 g-other "@clawbot hello" '"mentioned": true'
group x2 s1 g-other "answer me" '"replyToBot": true'
wait_metric "$DROPPED_POLICY" 2 "allowlist: both messages of g-other (not in groupAllowFrom) dropped by policy"
group c11 s2 g-team "last one" '"mentioned": true'
expect_reply 9 "18|last one" "allowlist: g-team goes on (count 18); g-other got no answer"
assert_recv '[o["to"]["id"] for o in L if o["to"]["id"] not in ("g-team", "g-open")]' '[]' \
  "allowlist: a mention or a reply to the bot does not bypass groupAllowFrom"
assert_eq 0 "$(metric_sum openclaw_pairing_requests_total)" "groups: group senders are never asked to pair"

# ---- the group's session key ----
# A /hooks/agent run in agent:main:webhook:group:g-team sees that history.
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "probe", "sessionKey": "agent:main:webhook:group:g-team"}'
assert_status 200 "session key: /hooks/agent in agent:main:webhook:group:g-team"
assert_json "$HTTP_BODY" 'j["reply"]' "20|probe" \
  "session key: the group's session is agent:main:webhook:group:g-team (history 18 + system + probe)"
gw_down

# =====================================================================
# groupPolicy disabled: every group message dropped
# =====================================================================
start_receiver disabled
new_gateway disabled
write_config "" '    dmPolicy: open
    allowFrom: ["*"]
    groupPolicy: disabled
    groupAllowFrom: ["g-team"]
    groups:
      "*": {requireMention: false}' "$FOLLOWUP"
gw_up
group h1 s1 g-team "anyone?" '"mentioned": true'
group h2 s1 g-team "hello" '"replyToBot": true'
group h3 s2 g-else "and here?" '"mentioned": true'
wait_metric "$DROPPED_POLICY" 3 "disabled: all 3 group messages dropped by policy"
dm h4 u1 "dm works"
expect_reply 1 "mock: dm works" "disabled: no group message answered (a DM still is)"
assert_recv 'L[0]["to"]' '{"id": "u1", "type": "direct"}' "disabled: the only reply is the DM's"
gw_down

# =====================================================================
# groupPolicy allowlist (the default) with no groupAllowFrom: all dropped
# =====================================================================
start_receiver emptylist
new_gateway emptylist
write_config "" '    dmPolicy: open
    allowFrom: ["*"]' "$FOLLOWUP"
gw_up
group e1 s1 g-team "hello" '"mentioned": true'
wait_metric "$DROPPED_POLICY" 1 "empty groupAllowFrom: a mentioned group message is dropped by policy"
dm e2 u1 "dm works"
expect_reply 1 "mock: dm works" "empty groupAllowFrom: no group message answered (a DM still is)"
assert_recv '[o["to"]["type"] for o in L]' '["direct"]' "empty groupAllowFrom: no reply to the group"
gw_down

# =====================================================================
# groupPolicy open; groups."*" and a group's own rule
# =====================================================================
start_receiver open
new_gateway open
write_config '    reply: "{{count}}|{{last}}"' '    groupPolicy: open
    groups:
      "*": {requireMention: false}
      "g-strict": {requireMention: true}' "$FOLLOWUP"
gw_up
group n1 s1 g-any "chatter"
expect_reply 1 "2|chatter" 'open: any group is answered; groups."*".requireMention false needs no mention'
group n2 s1 g-strict "quiet"
group n3 s2 g-strict "question" '"mentioned": true'
expect_reply 2 "3|question" 'open: the group'"'"'s own rule (g-strict: requireMention true) wins over "*"'
assert_recv '[o["to"]["id"] for o in L]' '["g-any", "g-strict"]' "open: each answer goes to its group"
gw_down

finish
