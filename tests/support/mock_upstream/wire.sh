#!/usr/bin/env bash
# wire.sh - oc-mock-upstream speaks the public wire formats field by field:
# OpenAI chat completions (JSON and SSE, include_usage, tool calls), the
# Anthropic Messages API (JSON and the SSE event sequence, tool_use), model
# lists and embeddings.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=mock_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mock_lib.sh"

start_mock --models gpt-test,claude-test,org/model
USER_MSG='{"role":"user","content":"hello mock"}'
MSGS='"messages":['"$USER_MSG"']'
TOOLS_OAI='"tools":[{"type":"function","function":{"name":"get_weather",'
TOOLS_OAI+='"parameters":{"type":"object"}}}]'
TOOLS_ANT='"tools":[{"name":"get_weather","description":"w","input_schema":{"type":"object"}}]'
AH=(-H 'x-api-key: k' -H 'anthropic-version: 2023-06-01')
ANT_EVENTS_TEXT='["message_start", "content_block_start", "ping", "content_block_delta", '
ANT_EVENTS_TEXT+='"content_block_delta", "content_block_delta", "content_block_stop", '
ANT_EVENTS_TEXT+='"message_delta", "message_stop"]'

# ---- OpenAI: chat.completion ----
chat '{"model":"gpt-test","messages":[{"role":"system","content":"be brief"},'"$USER_MSG"']}'
assert_status 200 "chat completion"
assert_match "$(header content-type)" '^application/json' "chat completion is JSON"
assert_json "$HTTP_BODY" 'sorted(j)' \
  '["choices", "created", "id", "model", "object", "system_fingerprint", "usage"]' \
  "chat.completion members"
assert_json "$HTTP_BODY" 'j["object"]' chat.completion "object is chat.completion"
assert_match "$(json_get "$HTTP_BODY" 'j["id"]')" '^chatcmpl-mock[0-9]+$' "id is chatcmpl-..."
assert_json "$HTTP_BODY" 'type(j["created"]) is int and j["created"] > 1600000000' true \
  "created is unix seconds"
assert_json "$HTTP_BODY" 'j["model"]' gpt-test "model echoes the request's"
assert_json "$HTTP_BODY" 'len(j["choices"])' 1 "one choice"
choice=$(json_get "$HTTP_BODY" 'j["choices"][0]')
assert_json "$choice" '[j["index"], j["message"]["role"], j["finish_reason"]]' \
  '[0, "assistant", "stop"]' "choice 0: role assistant, finish_reason stop"
assert_match "$(json_get "$choice" 'j["message"]["content"]')" '^mock reply [0-9]+$' \
  "content is 'mock reply <n>'"
usage=$(json_get "$HTTP_BODY" 'j["usage"]')
assert_json "$usage" 'sorted(j)' '["completion_tokens", "prompt_tokens", "total_tokens"]' \
  "usage members"
assert_json "$usage" 'j["total_tokens"] == j["prompt_tokens"] + j["completion_tokens"]' true \
  "usage adds up"
assert_json "$usage" 'j["prompt_tokens"] > 0 and j["completion_tokens"] > 0' true \
  "usage counts are positive"
n1=$(json_get "$choice" 'j["message"]["content"]')
chat '{"model":"gpt-test",'"$MSGS"'}'
n2=$(json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]')
assert_ne "$n1" "$n2" "each reply has its own number"

# Content parts and null content are accepted (real clients send both).
parts='[{"type":"text","text":"part one"},{"type":"image_url","image_url":{"url":"x"}}]'
chat '{"model":"gpt-test","messages":[{"role":"assistant","content":null},'\
'{"role":"user","content":'"$parts"'}]}' -H 'x-mock-echo: 1'
assert_status 200 "content parts and null content accepted"
assert_contains "$(json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]')" "part one" \
  "echo takes the text parts of the last user message"

# ---- OpenAI: SSE ----
sse /v1/chat/completions '{"model":"gpt-test","stream":true,'"$MSGS"'}' -H 'x-mock-chunks: 4'
assert_eq 200 "$SSE_CODE" "streamed chat completion"
assert_match "$(sse_header content-type)" '^text/event-stream' \
  "stream content-type text/event-stream"
assert_eq chunked "$(sse_header transfer-encoding)" "stream uses chunked framing"
assert_json "$SSE" 'all(e["event"] is None for e in j)' true "OpenAI events are data-only"
assert_json "$SSE" 'len(j)' 7 "role chunk + 4 content chunks + finish chunk + [DONE]"
assert_json "$SSE" 'j[-1]["data"]' '[DONE]' "ends with data: [DONE]"
chunks=$(json_get "$SSE" '[x["data"] for x in j[:-1]]')
assert_json "$chunks" 'sorted({(c["object"], c["model"]) for c in j})' \
  '[["chat.completion.chunk", "gpt-test"]]' "every chunk is a chat.completion.chunk of the model"
assert_json "$chunks" 'len({c["id"] for c in j})' 1 "all chunks share one id"
choices=$(json_get "$chunks" '[c["choices"][0] for c in j]')
assert_json "$choices" 'j[0]["delta"]' '{"content": "", "refusal": null, "role": "assistant"}' \
  "first chunk: role delta with empty content"
assert_json "$choices" '[c["finish_reason"] for c in j]' '[null, null, null, null, null, "stop"]' \
  "finish_reason null until the finish chunk, then stop"
assert_json "$choices" 'all(len(c["delta"]["content"]) > 0 for c in j[1:5])' true \
  "content chunks are non-empty"
assert_match "$(json_get "$choices" '"".join(c["delta"]["content"] for c in j[1:5])')" \
  '^mock reply [0-9]+$' "content chunks join to the reply"
assert_json "$choices" 'j[5]["delta"]' '{}' "finish chunk has an empty delta"
assert_json "$chunks" 'any("usage" in c for c in j)' false "no usage without include_usage"

sse /v1/chat/completions \
  '{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},'"$MSGS"'}' \
  -H 'x-mock-chunks: 3'
assert_json "$SSE" 'len(j)' 7 "include_usage: role + 3 + finish + usage + [DONE]"
assert_json "$SSE" 'all(x["data"]["usage"] is None for x in j[:5])' true \
  "include_usage: usage null on the other chunks"
last=$(json_get "$SSE" 'j[5]["data"]')
assert_json "$last" 'j["choices"]' '[]' "usage chunk has no choices"
assert_json "$last" 'j["usage"]["total_tokens"] - j["usage"]["prompt_tokens"]' \
  "$(json_get "$last" 'j["usage"]["completion_tokens"]')" "usage chunk adds up"
assert_json "$SSE" 'j[6]["data"]' '[DONE]' "[DONE] after the usage chunk"

# ---- OpenAI: tool calls ----
chat '{"model":"gpt-test",'"$MSGS,$TOOLS_OAI"'}'
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' stop \
  "tools offered, knob off: a text reply"
chat '{"model":"gpt-test",'"$MSGS,$TOOLS_OAI"'}' -H 'x-mock-tools: 1'
msg=$(json_get "$HTTP_BODY" 'j["choices"][0]')
assert_json "$msg" 'j["finish_reason"]' tool_calls "tool knob: finish_reason tool_calls"
assert_json "$msg" 'j["message"]["content"]' null "tool call: content null"
assert_json "$msg" 'len(j["message"]["tool_calls"])' 1 "one tool call"
tc=$(json_get "$msg" 'j["message"]["tool_calls"][0]')
assert_json "$tc" 'sorted(j)' '["function", "id", "type"]' "tool call members"
assert_match "$(json_get "$tc" 'j["id"]')" '^call_mock[0-9]+$' "tool call id call_..."
assert_json "$tc" 'j["type"]' function "tool call type function"
assert_json "$tc" 'j["function"]["name"]' get_weather "tool call names the offered tool"
assert_json "$tc" 'type(__import__("json").loads(j["function"]["arguments"])).__name__' dict \
  "arguments is a JSON object in a string"
chat '{"model":"gpt-test","messages":[{"role":"user","content":"please [[tool]] now"}],'\
"$TOOLS_OAI"'}'
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' tool_calls \
  "[[tool]] in the last user message triggers a tool call"
chat '{"model":"gpt-test","messages":[{"role":"user","content":"[[tool]]"}]}'
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' stop \
  "[[tool]] without tools offered: text"

sse /v1/chat/completions '{"model":"gpt-test","stream":true,'"$MSGS,$TOOLS_OAI"'}' \
  -H 'x-mock-tools: 1' -H 'x-mock-chunks: 3'
assert_json "$SSE" 'len(j)' 6 "streamed tool call: role + 3 argument chunks + finish + [DONE]"
deltas=$(json_get "$SSE" '[x["data"]["choices"][0]["delta"] for x in j[:-2]]')
d0=$(json_get "$deltas" 'j[0]')
assert_json "$d0" '[j["role"], j["content"]]' '["assistant", null]' \
  "tool stream: first delta has the role, content null"
assert_json "$d0" '[j["tool_calls"][0][k] for k in ("index", "type")]' '[0, "function"]' \
  "tool stream: first delta has index 0 and type function"
assert_match "$(json_get "$d0" 'j["tool_calls"][0]["id"]')" '^call_mock[0-9]+$' \
  "tool stream: first delta has the call id"
assert_json "$d0" 'j["tool_calls"][0]["function"]' '{"arguments": "", "name": "get_weather"}' \
  "tool stream: name first, empty arguments"
calls=$(json_get "$deltas" '[d["tool_calls"][0] for d in j[1:]]')
assert_json "$calls" '[sorted(c) for c in j]' '[["function", "index"], ["function", "index"], '\
'["function", "index"]]' "argument deltas carry the index only, no id"
args=$(json_get "$calls" '"".join(c["function"]["arguments"] for c in j)')
assert_json "$(json_get "$args" 'j')" 'type(j).__name__' dict \
  "argument fragments join to a JSON object"
assert_json "$SSE" 'j[4]["data"]["choices"][0]["finish_reason"]' tool_calls \
  "tool stream: finish_reason tool_calls"

# ---- Anthropic: message ----
messages '{"model":"claude-test","max_tokens":64,"system":"be brief",'"$MSGS"'}'
assert_status 200 "message"
assert_json "$HTTP_BODY" 'sorted(j)' \
  '["content", "id", "model", "role", "stop_reason", "stop_sequence", "type", "usage"]' \
  "message members"
assert_match "$(json_get "$HTTP_BODY" 'j["id"]')" '^msg_mock[0-9]+$' "message id msg_..."
assert_json "$HTTP_BODY" '[j["type"], j["role"], j["model"]]' \
  '["message", "assistant", "claude-test"]' "type message, role assistant, model echoed"
assert_json "$HTTP_BODY" '[b["type"] for b in j["content"]]' '["text"]' "one text block"
assert_match "$(json_get "$HTTP_BODY" 'j["content"][0]["text"]')" '^mock reply [0-9]+$' \
  "text is 'mock reply <n>'"
assert_json "$HTTP_BODY" '[j["stop_reason"], j["stop_sequence"]]' '["end_turn", null]' \
  "stop_reason end_turn"
usage=$(json_get "$HTTP_BODY" 'j["usage"]')
assert_json "$usage" '[sorted(j), j["input_tokens"] > 0, j["output_tokens"] > 0]' \
  '[["input_tokens", "output_tokens"], true, true]' "usage input/output tokens"

messages '{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":'\
'[{"type":"text","text":"use [[tool]]"}]}],'"$TOOLS_ANT"'}'
assert_json "$HTTP_BODY" 'j["stop_reason"]' tool_use "[[tool]]: stop_reason tool_use"
blk=$(json_get "$HTTP_BODY" 'j["content"][0]')
assert_json "$blk" '[j["type"], j["name"], type(j["input"]).__name__]' \
  '["tool_use", "get_weather", "dict"]' "tool_use block: type, name, input object"
assert_match "$(json_get "$blk" 'j["id"]')" '^toolu_mock[0-9]+$' "tool_use id toolu_..."

# ---- Anthropic: SSE ----
sse /v1/messages '{"model":"claude-test","max_tokens":64,"stream":true,'"$MSGS"'}' "${AH[@]}" \
  -H 'x-mock-chunks: 3'
assert_eq 200 "$SSE_CODE" "streamed message"
assert_json "$SSE" '[e["event"] for e in j]' "$ANT_EVENTS_TEXT" "Anthropic event order"
assert_json "$SSE" 'all(e["event"] == e["data"]["type"] for e in j)' true \
  "each data.type names its event"
ms=$(json_get "$SSE" 'j[0]["data"]["message"]')
assert_json "$ms" '[j["type"], j["role"], j["model"], j["content"], j["stop_reason"]]' \
  '["message", "assistant", "claude-test", [], null]' "message_start carries the empty message"
assert_json "$ms" 'j["usage"]["input_tokens"] > 0' true "message_start has usage.input_tokens"
assert_json "$SSE" 'j[1]["data"]' \
  '{"content_block": {"text": "", "type": "text"}, "index": 0, "type": "content_block_start"}' \
  "content_block_start: empty text block"
deltas=$(json_get "$SSE" '[x["data"] for x in j[3:6]]')
assert_json "$deltas" 'sorted({(d["index"], d["delta"]["type"]) for d in j})' \
  '[[0, "text_delta"]]' \
  "deltas are text_delta at index 0"
assert_match "$(json_get "$deltas" '"".join(d["delta"]["text"] for d in j)')" \
  '^mock reply [0-9]+$' "text deltas join to the reply"
assert_json "$SSE" 'j[6]["data"]["index"]' 0 "content_block_stop index 0"
assert_json "$SSE" 'j[7]["data"]["delta"]' '{"stop_reason": "end_turn", "stop_sequence": null}' \
  "message_delta stop_reason end_turn"
assert_json "$SSE" 'j[7]["data"]["usage"]["output_tokens"] > 0' true \
  "message_delta usage.output_tokens"
tail_ok=$(python3 -c 'import sys
t = open(sys.argv[1]).read()
print(t.endswith("\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))' "$SSE_RAW")
assert_eq True "$tail_ok" "events are framed 'event: <name>\\ndata: <json>\\n\\n'"

sse /v1/messages '{"model":"claude-test","max_tokens":64,"stream":true,'"$MSGS,$TOOLS_ANT"'}' \
  "${AH[@]}" -H 'x-mock-tools: true' -H 'x-mock-chunks: 2'
assert_json "$SSE" '[e["event"] for e in j]' \
  "$(json_get "$ANT_EVENTS_TEXT" 'j[:4] + j[5:]')" "tool_use stream event order"
cb=$(json_get "$SSE" 'j[1]["data"]["content_block"]')
assert_json "$cb" '[j["type"], j["name"], j["input"]]' '["tool_use", "get_weather", {}]' \
  "content_block_start: tool_use with empty input"
deltas=$(json_get "$SSE" '[x["data"]["delta"] for x in j[3:5]]')
assert_json "$deltas" '[d["type"] for d in j]' '["input_json_delta", "input_json_delta"]' \
  "deltas are input_json_delta"
args=$(json_get "$deltas" '"".join(d["partial_json"] for d in j)')
assert_json "$(json_get "$args" 'j')" 'type(j).__name__' dict "partial_json joins to an object"
assert_json "$SSE" 'j[6]["data"]["delta"]["stop_reason"]' tool_use \
  "message_delta stop_reason tool_use"

# ---- models ----
http GET "$MOCK/v1/models"
assert_status 200 "GET /v1/models"
assert_json "$HTTP_BODY" 'j["object"]' list "model list object list"
assert_json "$HTTP_BODY" '[m["id"] for m in j["data"]]' '["gpt-test", "claude-test", "org/model"]' \
  "the configured models, in order"
assert_json "$HTTP_BODY" 'sorted({(m["object"], m["owned_by"]) for m in j["data"]})' \
  '[["model", "oc-mock-upstream"]]' "OpenAI model objects"
assert_json "$HTTP_BODY" 'all(type(m["created"]) is int for m in j["data"])' true \
  "OpenAI model objects have an integer created"
http GET "$MOCK/v1/models" -H 'anthropic-version: 2023-06-01'
assert_json "$HTTP_BODY" '[j["has_more"], j["first_id"], j["last_id"]]' \
  '[false, "gpt-test", "org/model"]' "Anthropic list shape with anthropic-version"
assert_json "$HTTP_BODY" 'sorted({m["type"] for m in j["data"]})' '["model"]' \
  "Anthropic model objects"
http GET "$MOCK/v1/models/org%2Fmodel"
assert_status 200 "GET /v1/models/<percent-encoded id>"
assert_json "$HTTP_BODY" 'j["id"]' org/model "one model object"
http GET "$MOCK/v1/models/nope"
assert_status 404 "unknown model id"
assert_json "$HTTP_BODY" 'j["error"]["code"]' model_not_found "404 code model_not_found"

# ---- embeddings ----
http POST "$MOCK/v1/embeddings" --data '{"model":"emb","input":["one","two"],"dimensions":8}'
assert_status 200 "embeddings"
assert_json "$HTTP_BODY" '[j["object"], j["model"], len(j["data"])]' '["list", "emb", 2]' \
  "embeddings list of 2"
assert_json "$HTTP_BODY" '[(d["object"], d["index"], len(d["embedding"])) for d in j["data"]]' \
  '[["embedding", 0, 8], ["embedding", 1, 8]]' "embedding objects in order, 8 dimensions"
assert_json "$HTTP_BODY" '[round(sum(x * x for x in d["embedding"]), 4) for d in j["data"]]' \
  '[1.0, 1.0]' "vectors are unit length"
v1=$(json_get "$HTTP_BODY" 'j["data"][0]["embedding"]')
http POST "$MOCK/v1/embeddings" \
  --data '{"model":"emb","input":"one","dimensions":8,"encoding_format":"base64"}'
b64=$(json_get "$HTTP_BODY" 'j["data"][0]["embedding"]')
same=$(python3 -c 'import base64, json, struct, sys
got = list(struct.unpack("<8f", base64.b64decode(sys.argv[1])))
want = [struct.unpack("<f", struct.pack("<f", x))[0] for x in json.loads(sys.argv[2])]
print(got == want)' "$b64" "$v1")
assert_eq True "$same" "base64: the same vector as float32 little-endian (same input, same vector)"
assert_json "$HTTP_BODY" 'j["usage"]["prompt_tokens"] == j["usage"]["total_tokens"] > 0' true \
  "embeddings usage"

stop_mock "oc-mock-upstream exits 0 on SIGTERM"
finish
