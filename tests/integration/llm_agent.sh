#!/usr/bin/env bash
# llm_agent.sh - agent models on the OpenAI API (issue 4, item 1):
# model openclaw/<agentId> (and openclaw, openclaw/default, openclaw:<id>,
# agent:<id>) runs a turn of that agent in its session: `user` ->
# agent:<id>:openai-user:<user>, x-openclaw-session-key, else a new session.
# The history grows per session (the mock provider's {{count}} is the
# number of messages the model got: system + history + the new one), for
# chat completions and responses, streaming and not. A client that goes
# away cancels the running turn (nothing is recorded).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=llm_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/llm_lib.sh"

llm_gateway agent "providers:
  - {name: mock, type: mock, reply: \"n={{count}}: {{last}}\", streamChunks: 3}
  - {name: coder, type: mock, reply: \"coder n={{count}}: {{last}}\"}
  - {name: down, type: mock, failFirst: 1000000, failStatus: 503}
  - {name: limited, type: mock, failFirst: 1000000, failStatus: 429}
  - {name: slow, type: mock, latencyMs: 1500, reply: \"slow n={{count}}: {{last}}\"}
agents:
  defaults:
    model: {primary: mock/mock}
  list:
    - {id: main, default: true}
    - {id: coder, model: coder/mock}
    - {id: broken, model: down/mock}
    - {id: busy, model: limited/mock}
    - {id: sleepy, model: slow/mock}" "  limits:
    streamKeepAliveMs: 100"

# chat MODEL TEXT [USER] [CURL ARGS...]
chat() {
  local model=$1 text=$2 user=${3:-}
  shift 3 || shift $#
  local u=""
  [[ -n "$user" ]] && u=",\"user\":\"$user\""
  api /v1/chat/completions \
    "{\"model\":\"$model\"$u,\"messages\":[{\"role\":\"user\",\"content\":\"$text\"}]}" "$@"
}

reply() {
  json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]'
}

# ---- sessions by user ----
chat openclaw/main hello Alice
assert_status 200 "user: 200"
assert_eq "n=2: hello" "$(reply)" "user: the first turn (system + the message)"
assert_eq "agent:main:openai-user:alice" "$(header x-openclaw-session-key)" \
  "user: the session key (lower-case)"
assert_json "$HTTP_BODY" 'j["model"] + " " + j["object"]' "openclaw/main chat.completion" \
  "user: a chat.completion for the agent model"
assert_json "$HTTP_BODY" 'j["usage"]["prompt_tokens"] > 0' true "user: usage"
chat openclaw/main again alice
assert_eq "n=4: again" "$(reply)" "user: the history grows (same session)"

# Streaming in the same session.
stream_client /v1/chat/completions '{"model":"openclaw","user":"alice","stream":true,
  "stream_options":{"include_usage":true},"messages":[{"role":"user","content":"third"}]}'
stream_events
assert_ev 'chunks[0]["choices"][0]["delta"]["role"]' assistant "stream: the role delta first"
assert_ev text "n=6: third" "stream: the reply, in the same session (openclaw = the default agent)"
assert_ev 'sum(1 for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content"))' 3 \
  "stream: one chunk per provider chunk"
assert_ev finish stop "stream: finish_reason"
assert_ev '[u["prompt_tokens"] > 0 for u in usage]' '[true]' "stream: the usage chunk"
assert_ev 'j[-1]["data"]' "[DONE]" "stream: [DONE]"
assert_ev 'len(set(c["id"] for c in chunks))' 1 "stream: one id"
chat openclaw/default fourth alice
assert_eq "n=8: fourth" "$(reply)" "stream: the streamed turn is in the history too"

# ---- a new session per request without user or header ----
chat openclaw/main solo
assert_eq "n=2: solo" "$(reply)" "no user: a new session"
k1=$(header x-openclaw-session-key)
chat openclaw/main solo
assert_eq "n=2: solo" "$(reply)" "no user: again a new session"
assert_match "$k1" '^agent:main:openai:[0-9a-f]{24}$' "no user: agent:main:openai:<random>"
assert_ne "$k1" "$(header x-openclaw-session-key)" "no user: different sessions"

# ---- x-openclaw-session-key ----
chat openclaw/main one "" -H "x-openclaw-session-key: Project-X"
assert_eq "agent:main:project-x" "$(header x-openclaw-session-key)" \
  "header: a name is scoped under the agent"
chat openclaw/main two "" -H "x-openclaw-session-key: agent:main:project-x"
assert_eq "n=4: two" "$(reply)" "header: a full key names the same session"
chat openclaw/main x "" -H "x-openclaw-session-key: cron:nightly"
assert_status 400 "header: a reserved namespace is refused"
assert_json "$HTTP_BODY" 'j["error"]["code"]' invalid_session_key \
  "header: invalid_session_key"
chat openclaw/main x "" -H "x-openclaw-session-key: agent:coder:x"
assert_status 400 "header: another agent's key is refused"

# ---- other agents and model forms ----
chat openclaw:coder hi
assert_eq "coder n=2: hi" "$(reply)" "openclaw:<id> runs that agent"
chat agent:coder hi bob
assert_eq "coder n=2: hi" "$(reply)" "agent:<id> runs that agent"
assert_eq "agent:coder:openai-user:bob" "$(header x-openclaw-session-key)" \
  "agent:<id>: its own session"
chat openclaw/nobody hi
assert_status 404 "unknown agent: 404"
assert_json "$HTTP_BODY" 'j["error"]["code"]' model_not_found \
  "unknown agent: model_not_found"
api /v1/chat/completions \
  '{"model":"openclaw/main","n":2,"messages":[{"role":"user","content":"x"}]}'
assert_status 400 "agent: n must be 1"
assert_json "$HTTP_BODY" 'j["error"]["param"]' n "agent: n named"
api /v1/chat/completions '{"model":"openclaw/main","messages":[{"role":"system","content":"x"}]}'
assert_status 400 "agent: a user message is needed"

# ---- failures of the agent's chain ----
chat openclaw/broken hi
assert_status 502 "agent: its provider down -> 502"
assert_json "$HTTP_BODY" 'j["error"]["code"]' upstream_error "agent: upstream_error"
chat openclaw/busy hi
assert_status 429 "agent: its provider rate-limited -> 429"
assert_ne "" "$(header retry-after)" "agent: Retry-After"

# ---- Responses API ----
api /v1/responses '{"model":"openclaw/main","user":"carol","input":"hi"}'
assert_status 200 "responses: 200"
output_text() {
  json_get "$HTTP_BODY" 'j["output"][0]["content"][0]["text"]'
}
assert_eq "n=2: hi" "$(output_text)" "responses: the agent's answer"
api /v1/responses '{"model":"openclaw/main","user":"carol",
  "input":[{"role":"user","content":[{"type":"input_text","text":"more"}]}]}'
assert_eq "n=4: more" "$(output_text)" "responses: the same session's history"
stream_client /v1/responses '{"model":"openclaw/main","user":"carol","stream":true,"input":"hey"}'
stream_events
assert_ev types "$RESP_EVENTS" "responses stream: the events in order"
assert_ev deltas "n=6: hey" "responses stream: the deltas"
api /v1/responses '{"model":"openclaw/broken","input":"hi"}'
assert_status 502 "responses: a failing agent -> 502"

# ---- a client that goes away cancels the running turn ----
out=$(python3 "$MOCK_CLIENT" abort "$GW_PORT" /v1/chat/completions '{"model":"openclaw/sleepy",
  "user":"dave","stream":true,"messages":[{"role":"user","content":"gone"}]}' \
  -H "Authorization: Bearer $API_KEY" --after-events 1) || fail "abort client failed"
assert_json "$out" 'j["status"]' 200 "abort: the stream started (keep-alive)"
canceled_turns() {
  [[ "$(llm_metric 'openclaw_agent_turns_total{agent="sleepy",outcome="canceled"}')" == 1 ]]
}
wait_until 5000 canceled_turns || fail "abort: the turn was not canceled"
pass "abort: the running turn was canceled"
canceled='openclaw_provider_calls_total{provider="slow",model="mock",outcome="canceled"}'
assert_eq 1 "$(llm_metric "$canceled")" "abort: its provider call was canceled"
chat openclaw/sleepy back dave
assert_eq "slow n=2: back" "$(reply)" \
  "abort: the canceled turn left nothing in the session's history"

llm_stop
finish
