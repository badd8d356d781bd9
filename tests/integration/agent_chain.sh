#!/usr/bin/env bash
# agent_chain.sh - an agent turn's model chain and timeout (issue 3, item 5):
# primary then fallbacks for that turn only, no fail-over on a 400-class
# error, aliases, and agents.defaults.timeoutSeconds. Driven through
# /hooks/agent and a webhook DM, with mock providers that fail on purpose.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=msg_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/msg_lib.sh"

# hook MESSAGE: POST /hooks/agent; sets HTTP_CODE, HTTP_BODY.
hook() {
  http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
    --data "{\"message\": $(jstr "$1")}"
}

# This test is about turn-local fail-over: every turn walks the chain from
# its primary. Provider cooldowns (a failed provider is skipped for 30 s;
# tests/integration/llm_failover.sh) would skip "flaky" in turn 2, so they
# end at once here (test-only setting, read by the gateway at start).
export OPENCLAW_TEST_COOLDOWN_SCALE=0

start_receiver chain
new_gateway chain
# "mock" (from write_config) is the good fallback. "flaky" fails its first
# call with a 503, "broken" always with a 500, "refuses" with a 400, "slow"
# takes 3 s.
write_config '    reply: "good: {{last}}"
  - name: flaky
    type: mock
    reply: "flaky: {{last}}"
    failFirst: 1
    failStatus: 503
  - name: broken
    type: mock
    failFirst: 1000000
    failStatus: 500
  - name: refuses
    type: mock
    failFirst: 1000000
    failStatus: 400
  - name: slow
    type: mock
    reply: "slow: {{last}}"
    latencyMs: 3000' '    dmPolicy: open
    allowFrom: ["*"]' "$FOLLOWUP
agents:
  defaults:
    timeoutSeconds: 1
    model:
      primary: flaky/mock
      fallbacks: [broken/mock, good]
    models:
      \"mock/mock\": {alias: good}
  list:
    - id: main
      default: true
    - id: strict
      model:
        primary: refuses/mock
        fallbacks: [good]
    - id: sleepy
      model:
        primary: slow/mock
        fallbacks: [good]"
gw_up

# Turn 1: flaky fails (503), broken fails (500), the alias "good" answers.
hook "one"
assert_status 200 "chain: the turn is answered although the primary failed"
assert_json "$HTTP_BODY" 'j["reply"]' "good: one" "chain: 503 then 500 fail over to the alias good (mock/mock)"
assert_eq 1 "$(metric 'openclaw_provider_fallbacks_total{from="flaky",to="broken"}')" \
  "chain: fallback flaky -> broken counted"
assert_eq 1 "$(metric 'openclaw_provider_fallbacks_total{from="broken",to="mock"}')" \
  "chain: fallback broken -> mock counted"
# Turn 2 starts from the primary again (fallback is turn-local): flaky now works.
hook "two"
assert_json "$HTTP_BODY" 'j["reply"]' "flaky: two" "chain: the next turn starts from the primary"

# A 400-class error is the request's fault: no fail-over.
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "three", "agentId": "strict"}'
assert_status 502 "chain: a 400 from the primary fails the turn"
assert_contains "$HTTP_BODY" "400" "chain: the error names the upstream status"
assert_eq "" "$(metric 'openclaw_provider_fallbacks_total{from="refuses",to="mock"}')" \
  "chain: no fail-over after a 400"

# The turn timeout (1 s) cancels the slow provider; the fallback is not
# tried because the turn's time is up.
t0=$(date +%s%N)
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "four", "agentId": "sleepy"}'
t1=$(date +%s%N)
assert_status 502 "timeout: a turn over timeoutSeconds fails"
assert_contains "$HTTP_BODY" "timed out" "timeout: the error says it timed out"
elapsed=$(((t1 - t0) / 1000000))
((elapsed >= 900 && elapsed < 2900)) || fail "timeout: answered after ${elapsed} ms, expected about 1000"
pass "timeout: answered after ${elapsed} ms (timeoutSeconds 1, provider latency 3000)"

# A channel message goes through the same chain: one reply, from the
# primary (recovered since turn 1).
dm c1 u1 "five"
wait_lines 1 "channel: one reply for the DM"
assert_recv 'L[0]["text"]' "flaky: five" "channel: the DM is answered by the agent's chain"
wait_metric 'openclaw_agent_turns_total{agent="main",outcome="ok"}' 3 "metrics: ok turns counted"

# Strict bodies: "deliver" must be a boolean, and nothing may follow the
# JSON object.
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "x", "deliver": "no"}'
assert_status 400 "hooks: a non-boolean deliver is refused"
assert_contains "$HTTP_BODY" '\"deliver\" is true or false' "hooks: the error names deliver"
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data '{"message": "x"} {"message": "y"}'
assert_status 400 "hooks: data after the JSON object is refused"
assert_contains "$HTTP_BODY" "after the JSON object" "hooks: the error says what is wrong"
http POST "$BASE/hooks/agent" -H 'Content-Type: application/json' \
  --data $'{"message": "six"}\n'
assert_json "$HTTP_BODY" 'j["reply"]' "flaky: six" "hooks: trailing white space is fine"

gw_down
finish
