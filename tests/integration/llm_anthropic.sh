#!/usr/bin/env bash
# llm_anthropic.sh - provider-anthropic through the gateway against
# oc-mock-upstream's Anthropic /v1/messages: OpenAI-shaped requests in,
# Messages API out, and back; non-streaming and streaming; tool calls in both
# modes; upstream errors mapped to the OpenAI error shape.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=llm_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/llm_lib.sh"

[[ -f "$OPENCLAW_TEST_BINARY_DIR/plugins/provider-anthropic.so" ]] ||
  fail "provider-anthropic.so is missing (build the provider-anthropic target)"
start_upstream ant --chunks 3 --chunk-interval-ms 20 --echo
LLM_PLUGINS="storage-sqlite, auth-apikey, provider-anthropic" llm_gateway anthropic "providers:
  - name: claude
    type: anthropic
    apiKey: test-anthropic-key
    baseUrl: $UP_URL
    model: claude-test
    models: [claude-test]"

TOOLS='"tools":[{"type":"function","function":{"name":"get_weather","description":"weather",'\
'"parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]'
chat() { # TEXT [EXTRA JSON MEMBERS]
  printf '{"model":"claude/claude-test","messages":[{"role":"system","content":"be brief"},'
  printf '{"role":"user","content":"%s"}]%s}' "$1" "${2:+,$2}"
}

# ---- non-streaming ----
api /v1/chat/completions "$(chat "hello anthropic")"
assert_status 200 "a chat completion through provider-anthropic"
assert_json "$HTTP_BODY" 'j["object"]' chat.completion "answered as an OpenAI chat.completion"
assert_json "$HTTP_BODY" '"hello anthropic" in j["choices"][0]["message"]["content"]' true \
  "the user's text reached the Messages API and the reply came back"
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' stop "end_turn maps to stop"
assert_json "$HTTP_BODY" 'j["usage"]["prompt_tokens"] > 0 and j["usage"]["completion_tokens"] > 0' \
  true "usage translated from input/output tokens"
assert_eq 1 "$(up_stat ant 'j["by_endpoint"].get("messages", 0)')" \
  "the upstream saw one POST /v1/messages (x-api-key and anthropic-version accepted)"

# ---- streaming ----
stream_client /v1/chat/completions "$(chat "stream please" '"stream":true')"
assert_json "$STREAM" 'j["status"]' 200 "a streamed chat completion"
stream_events
assert_ev 'chunks[0]["choices"][0]["delta"].get("role")' assistant "message_start maps to the role delta"
assert_ev '"stream please" in text' true "text_delta events map to content deltas"
assert_ev 'len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) >= 3' \
  true "one chunk per upstream text delta (3 or more)"
assert_ev 'finish' stop "message_delta's stop_reason maps to the final chunk"
assert_ev 'j[-1]["data"]' '[DONE]' "the stream ends with [DONE]"

# ---- tool calls ----
api /v1/chat/completions "$(chat "[[tool]] weather in Paris" "$TOOLS")"
assert_status 200 "a tool-call answer"
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' tool_calls "tool_use maps to tool_calls"
assert_json "$HTTP_BODY" 'j["choices"][0]["message"]["tool_calls"][0]["type"]' function \
  "tool_use blocks map to message.tool_calls"
assert_json "$HTTP_BODY" \
  'isinstance(__import__("json").loads(j["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]), dict)' \
  true "the tool input comes back as a JSON arguments string"
stream_client /v1/chat/completions "$(chat "[[tool]] weather in Oslo" "$TOOLS,\"stream\":true")"
stream_events
assert_ev 'finish' tool_calls "a streamed tool call ends with finish_reason tool_calls"
assert_ev '[c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] for c in chunks if c["choices"] and c["choices"][0]["delta"].get("tool_calls") and c["choices"][0]["delta"]["tool_calls"][0].get("function", {}).get("name")][0] != ""' \
  true "the tool name arrives in a tool_calls delta"
assert_ev '"".join(c["choices"][0]["delta"]["tool_calls"][0]["function"].get("arguments", "") for c in chunks if c["choices"] and c["choices"][0]["delta"].get("tool_calls")) != ""' \
  true "input_json_delta fragments arrive as argument deltas"

# ---- errors ----
api /v1/chat/completions "$(chat "too hot" '"temperature":1.5')"
assert_status 400 "temperature above Anthropic's 1.0 is a request error"
assert_json "$HTTP_BODY" 'j["error"]["type"]' invalid_request_error "in the OpenAI error shape"
up_config ant '{"status":400}'
api /v1/chat/completions "$(chat "bad request upstream")"
assert_status 400 "an upstream 400 comes back as 400 (no failover)"
assert_json "$HTTP_BODY" '"message" in j["error"]' true "with the upstream's message"
up_config ant '{"status":500}'
api /v1/chat/completions "$(chat "server error upstream")"
assert_status 502 "an upstream 500 with no fallback is 502"
assert_json "$HTTP_BODY" 'j["error"]["type"]' upstream_error "upstream_error"
up_config ant '{"status":0}'
llm_stop
finish
