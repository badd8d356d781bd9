#!/usr/bin/env bash
# llm_proxy.sh - the OpenAI-compatible API in front of a provider/model
# (issue 4): POST /v1/chat/completions and /v1/responses through
# provider-openai to oc-mock-upstream, non-streaming (the upstream's body
# unchanged) and streaming (each chunk written as it arrives, never
# coalesced), keep-alive comments while the upstream is silent, a client
# that goes away cancelling the upstream call, GET /v1/models, request
# validation, and the provider metrics.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=llm_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/llm_lib.sh"

start_upstream up --chunks 4 --chunk-interval-ms 150
llm_gateway proxy "providers:
  - name: up
    type: openai
    baseUrl: $UP_URL/v1
    model: gpt-test
    models: [gpt-test, gpt-big]
agents:
  defaults:
    model: {primary: up/gpt-test}
    models:
      \"up/gpt-big\": {alias: big}" "  limits:
    streamKeepAliveMs: 100"

CHAT='{"model":"up/gpt-test","messages":[{"role":"user","content":"hello there"}]}'
# reply_n: the mock's text for the last call it answered ("mock reply <n>").
reply_n() {
  printf 'mock reply %s' "$(up_stat up 'j["by_endpoint"]["chat_completions"]')"
}

# msg MODEL TEXT [MEMBERS]: a chat body with one user message.
msg() {
  printf '{"model":"%s"%s,"messages":[{"role":"user","content":"%s"}]}' "$1" "${3:+,$3}" "$2"
}

# ---- models ----
http GET "$BASE/v1/models" "${AUTH[@]}"
assert_status 200 "GET /v1/models"
assert_json "$HTTP_BODY" '[m["id"] for m in j["data"]]' \
  '["openclaw", "openclaw/default", "openclaw/main", "up/gpt-test", "up/gpt-big", "big"]' \
  "/v1/models: agents, every provider/model, aliases"
http GET "$BASE/v1/models/up%2Fgpt-big" "${AUTH[@]}"
assert_status 200 "GET /v1/models/up%2Fgpt-big"
assert_json "$HTTP_BODY" 'j["id"] + " " + j["owned_by"]' "up/gpt-big up" \
  "/v1/models/{id}: one model"
http GET "$BASE/v1/models/up/nope" "${AUTH[@]}"
assert_status 404 "GET /v1/models/{unknown}"
assert_json "$HTTP_BODY" 'j["error"]["code"]' model_not_found "unknown model: model_not_found"
http GET "$BASE/v1/models"
assert_status 401 "GET /v1/models without the key"

# ---- non-streaming ----
api /v1/chat/completions "$CHAT"
assert_status 200 "proxy: 200"
assert_json "$HTTP_BODY" 'j["choices"][0]["message"]["content"]' "$(reply_n)" \
  "proxy: the upstream's answer"
assert_json "$HTTP_BODY" 'j["system_fingerprint"]' fp_mock \
  "proxy: the upstream's body unchanged (its own members kept)"
assert_json "$HTTP_BODY" 'j["model"]' gpt-test \
  "proxy: the upstream got the model id without the provider"
assert_eq "application/json" "$(header content-type)" "proxy: content-type"
api /v1/chat/completions "$(msg big x)"
assert_json "$HTTP_BODY" 'j["model"]' gpt-big "proxy: an alias resolves to its provider/model"

# ---- streaming: one HTTP chunk per upstream chunk, as they come ----
stream_client /v1/chat/completions \
  "$(msg up/gpt-test hi '"stream":true,"stream_options":{"include_usage":true}')"
assert_json "$STREAM" 'j["status"]' 200 "stream: 200"
assert_json "$STREAM" 'j["headers"]["content-type"]' "text/event-stream; charset=utf-8" \
  "stream: content-type"
stream_events
assert_ev 'chunks[0]["choices"][0]["delta"]["role"]' assistant "stream: the role delta first"
assert_ev text "$(reply_n)" "stream: the content deltas make the reply"
assert_ev finish stop "stream: a final chunk with finish_reason"
assert_ev '[u["total_tokens"] > 0 for u in usage]' '[true]' \
  "stream: the usage chunk (include_usage)"
assert_ev 'j[-1]["data"]' "[DONE]" "stream: data: [DONE] last"
# The mock paces 4 content chunks 150 ms apart: each must leave the gateway
# in its own write, when it arrives (a held or coalesced chunk would show
# as fewer HTTP chunks or a gap near 0 between content chunks).
CONTENT_MS=$(json_get "$STREAM" '[t for c, t in zip(j["chunks"], j["event_ms"])
  if "\"content\":\"" in c and "\"content\":\"\"" not in c]')
# Four HTTP chunks with content (none coalesced), as far apart as paced.
assert_json "$CONTENT_MS" 'len(j) == 4 and min(b - a for a, b in zip(j, j[1:])) >= 100' true \
  "stream: each content chunk leaves in its own write as the upstream paces it ($CONTENT_MS ms)"

# ---- tools pass through ----
TOOLS='"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
"properties":{"city":{"type":"string"}}}}}],"tool_choice":"auto"'
up_config up '{"tools":true}'
api /v1/chat/completions "$(msg up/gpt-test "weather?" "$TOOLS")"
assert_status 200 "tools: 200"
assert_json "$HTTP_BODY" '[j["choices"][0]["finish_reason"],
  j["choices"][0]["message"]["tool_calls"][0]["function"]["name"]]' '["tool_calls", "get_weather"]' \
  "tools: the upstream's tool call comes back"
stream_client /v1/chat/completions "$(msg up/gpt-test "weather?" "\"stream\":true,$TOOLS")"
stream_events
assert_ev '[c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] for c in chunks
  if c["choices"] and c["choices"][0]["delta"].get("tool_calls")
  and c["choices"][0]["delta"]["tool_calls"][0].get("function", {}).get("name")]' \
  '["get_weather"]' "tools: tool-call deltas stream through"
assert_ev finish tool_calls "tools: finish_reason tool_calls"
up_config up '{"tools":false}'

# ---- keep-alive comments while the upstream is silent ----
# (The gateway does not forward a client's headers: knobs go to the mock.)
up_config up '{"latency_ms":450}'
stream_client /v1/chat/completions "$(msg up/gpt-test slow '"stream":true')"
up_config up '{"latency_ms":0}'
BODY=$(json_get "$STREAM" 'j["body"]')
assert_contains "$BODY" $': keep-alive\n\n' "keep-alive: comments while the upstream is silent"
assert_json "$STREAM" 'j["body"].index(": keep-alive") < j["body"].index("data: ")' true \
  "keep-alive: before the first chunk (streamKeepAliveMs 100, upstream latency 450 ms)"
assert_json "$STREAM" 'j["body"].endswith("data: [DONE]\n\n")' true \
  "keep-alive: the stream still ends with [DONE]"

# ---- an upstream failing mid-stream: no fail-over once bytes went out ----
up_config up '{"stream_error_after":2}'
stream_client /v1/chat/completions "$(msg up/gpt-test hi '"stream":true')"
stream_events
assert_ev 'j[-2]["data"]["error"]["code"]' upstream_error "mid-stream failure: an error chunk"
assert_ev 'j[-1]["data"]' "[DONE]" "mid-stream failure: then [DONE]"
assert_ev 'len(chunks) >= 2' true "mid-stream failure: what came before it was delivered"
stream_client /v1/responses '{"model":"up/gpt-test","stream":true,"input":"hi"}'
stream_events
assert_ev '[j[-2]["event"], j[-2]["data"]["response"]["status"]]' '["response.failed", "failed"]' \
  "mid-stream failure: response.failed on /v1/responses"
assert_ev 'j[-1]["data"]' "[DONE]" "mid-stream failure: then [DONE] (responses)"
up_config up '{"stream_error_after":-1}'

# ---- a client that goes away cancels the upstream call ----
before=$(up_stat up 'j["client_aborts"]')
up_config up '{"chunks":200,"chunk_interval_ms":100}'
client_out=$(python3 "$MOCK_CLIENT" abort "$GW_PORT" /v1/chat/completions \
  "$(msg up/gpt-test long '"stream":true')" -H "Authorization: Bearer $API_KEY" \
  --after-events 2) || fail "abort client failed"
assert_json "$client_out" 'j["status"]' 200 "abort: the stream started"
wait_until 5000 up_stat_is up "j['client_aborts'] > $before" true ||
  fail "abort: the upstream never saw the gateway close the call ($(up_stat up 'j'))"
pass "abort: the upstream call was canceled when the client went away"
wait_until 5000 up_stat_is up 'j["streams_open"]' 0 || fail "abort: an upstream stream stayed open"
pass "abort: no upstream stream left open"
up_config up '{"chunks":4,"chunk_interval_ms":150}'

# ---- Responses API ----
api /v1/responses '{"model":"up/gpt-test","instructions":"be brief","input":"hi"}'
assert_status 200 "responses: 200"
assert_json "$HTTP_BODY" 'j["object"] + " " + j["status"]' "response completed" \
  "responses: a completed response"
assert_json "$HTTP_BODY" 'j["output"][0]["content"][0]["type"]' output_text \
  "responses: output_text"
assert_json "$HTTP_BODY" 'j["output"][0]["content"][0]["text"]' "$(reply_n)" \
  "responses: the upstream's text"
assert_json "$HTTP_BODY" 'j["usage"]["total_tokens"] > 0' true "responses: usage"
stream_client /v1/responses '{"model":"up/gpt-test","stream":true,
  "input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}]}'
stream_events
assert_ev types "$RESP_EVENTS" "responses stream: the events in OpenAI's order"
assert_ev 'sum(1 for e in j if e["event"] == "response.output_text.delta")' 4 \
  "responses stream: one delta per upstream chunk"
assert_ev '[e["data"]["sequence_number"] for e in j if e["event"]] == list(range(len(j) - 1))' \
  true "responses stream: sequence numbers count up"
assert_ev '[e["data"]["response"]["output"][0]["content"][0]["text"] for e in j
  if e["event"] == "response.completed"]' "[\"$(reply_n)\"]" \
  "responses stream: completed carries the text"
assert_ev 'j[-1]["data"]' "[DONE]" "responses stream: data: [DONE] last"

# ---- refusals ----
api /v1/chat/completions "$(msg up/gpt-test x '"temperature":3')"
assert_status 400 "refusal: temperature 3"
assert_json "$HTTP_BODY" '[j["error"][k] for k in ("type", "param", "code")]' \
  '["invalid_request_error", "temperature", "decimal_above_max_value"]' \
  "refusal: the OpenAI error shape names the param"
api /v1/chat/completions "$(msg up/none x)"
assert_status 404 "refusal: unknown model"
assert_json "$HTTP_BODY" 'j["error"]["code"]' model_not_found "refusal: model_not_found"
api /v1/chat/completions '{"model":'
assert_status 400 "refusal: malformed JSON"
assert_json "$HTTP_BODY" 'j["error"]["code"]' invalid_json "refusal: invalid_json"
http GET "$BASE/v1/chat/completions" "${AUTH[@]}"
assert_status 405 "refusal: GET /v1/chat/completions"
assert_eq POST "$(header allow)" "refusal: Allow: POST"
http POST "$BASE/v1/chat/completions" -H 'Content-Type: application/json' --data "$CHAT"
assert_status 401 "refusal: no key"

# ---- metrics ----
http GET "$MBASE/metrics"
METRICS="$TEST_TMP/metrics.txt"
printf '%s\n' "$HTTP_BODY" >"$METRICS"
for want in 'openclaw_provider_calls_total{provider="up",model="gpt-test",outcome="ok"}' \
  'openclaw_provider_duration_seconds_count{provider="up",model="gpt-test"}' \
  'openclaw_provider_ttft_seconds_count{provider="up",model="gpt-test"}' \
  'openclaw_provider_chunk_gap_seconds_count{provider="up"}' \
  'openclaw_provider_tokens_total{provider="up",model="gpt-test",direction="in"}' \
  'openclaw_provider_tokens_total{provider="up",model="gpt-test",direction="out"}' \
  'openclaw_provider_cooldown{provider="up"} 0' \
  'openclaw_gateway_overhead_seconds_bucket{route="/v1/chat/completions",le="5e-06"}' \
  'openclaw_gateway_overhead_seconds_count{route="/v1/responses"}' \
  'openclaw_http_requests_total{route="/v1/chat/completions",method="POST",code="200"}'; do
  assert_contains "$HTTP_BODY" "$want" "metrics: $want"
done
assert_not_contains "$HTTP_BODY" 'model="up/none"' "metrics: no client-supplied model in labels"
assert_not_contains "$HTTP_BODY" 'model="none"' "metrics: no client-supplied model in labels (bare)"
if command -v promtool >/dev/null 2>&1; then
  run promtool check metrics <"$METRICS"
  assert_rc 0 "promtool check metrics"
fi

llm_stop
finish
