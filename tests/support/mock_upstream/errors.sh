#!/usr/bin/env bash
# errors.sh - bad requests to oc-mock-upstream get the status and the error
# shape of the API they address, with a message naming what is wrong:
# malformed JSON, missing or mistyped fields, Anthropic's auth headers,
# unknown paths, wrong methods.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=mock_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mock_lib.sh"

start_mock
U='"messages":[{"role":"user","content":"x"}]' # a valid messages member

# oai_bad BODY STATUS MESSAGE-PART DESC: POST /v1/chat/completions.
oai_bad() {
  chat "$1"
  assert_status "$2" "$4"
  assert_json "$HTTP_BODY" 'sorted(j["error"])' '["code", "message", "param", "type"]' \
    "$4: OpenAI error shape"
  assert_json "$HTTP_BODY" 'j["error"]["type"]' invalid_request_error "$4: invalid_request_error"
  assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" "$3" \
    "$4: message says what is wrong"
}
oai_bad '{"model":"m","messages":[' 400 "the request body is not valid JSON" "truncated JSON"
assert_json "$HTTP_BODY" 'j["error"]["code"]' invalid_json "malformed JSON: code invalid_json"
oai_bad '{"model":"m",'"$U"'} trailing' 400 "data after the value" "data after the JSON value"
oai_bad '' 400 "the request body is empty" "empty body"
oai_bad '[1,2]' 400 "the request body must be a JSON object" "a JSON array body"
oai_bad '{'"$U"'}' 400 "model: required" "missing model"
oai_bad '{"model":"",'"$U"'}' 400 "model: required, a non-empty string" "empty model"
oai_bad '{"model":7,'"$U"'}' 400 "model: required" "model not a string"
oai_bad '{"model":"m"}' 400 "messages: required, a non-empty array" "missing messages"
oai_bad '{"model":"m","messages":[]}' 400 "messages: required, a non-empty array" "empty messages"
oai_bad '{"model":"m","messages":[{"role":"wizard","content":"x"}]}' 400 \
  'messages[0].role: expected one of "system", "developer", "user"' "unknown role"
oai_bad '{"model":"m","messages":["hi"]}' 400 "messages[0].role" "a message that is not an object"
oai_bad '{"model":"m","messages":[{"role":"user","content":5}]}' 400 \
  "messages[0].content: expected a string or an array of content parts (or null)" \
  "content of the wrong type"
oai_bad '{"model":"m","messages":[{"role":"user","content":[{"text":"no type"}]}]}' 400 \
  'messages[0].content[0]: expected an object with a string "type"' "content part without a type"
oai_bad '{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":3}]}]}' 400 \
  "messages[0].content[0].text: expected a string" "text part without text"
oai_bad '{"model":"m","stream":"yes",'"$U"'}' 400 "stream: expected true or false" \
  "stream not a boolean"
oai_bad '{"model":"m","stream":true,"stream_options":{"include_usage":"yes"},'"$U"'}' 400 \
  "stream_options: expected an object like" "include_usage not a boolean"
oai_bad '{"model":"m","tools":{},'"$U"'}' 400 "tools: expected an array of tools" \
  "tools not an array"
oai_bad '{"model":"m","tools":[{"function":{"name":"f"}}],'"$U"'}' 400 'tools[0].type: required' \
  "tool without a type"
oai_bad '{"model":"m","tools":[{"type":"function","function":{"description":"d"}}],'"$U"'}' 400 \
  "tools[0].function.name: required, a non-empty string" "function tool without a name"
chat '{"model":"m","stream":null,"stream_options":null,"tools":null,'"$U"'}'
assert_status 200 "null optional fields are absent fields"

# ---- Anthropic ----
ant_bad() { # BODY STATUS ERROR-TYPE MESSAGE-PART DESC [CURL ARGS...]
  local body=$1 st=$2 type=$3 msg=$4 desc=$5
  shift 5
  http POST "$MOCK/v1/messages" "$@" --data "$body"
  assert_status "$st" "$desc"
  assert_json "$HTTP_BODY" '[j["type"], sorted(j["error"]), j["error"]["type"]]' \
    "[\"error\", [\"message\", \"type\"], \"$type\"]" "$desc: Anthropic error shape, $type"
  assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" "$msg" \
    "$desc: message says what is wrong"
}
AH=(-H 'x-api-key: k' -H 'anthropic-version: 2023-06-01')
GOOD='{"model":"c","max_tokens":5,'"$U"'}'
ant_bad "$GOOD" 401 authentication_error "x-api-key header is required" "no x-api-key" -H \
  'anthropic-version: 2023-06-01'
ant_bad "$GOOD" 401 authentication_error "x-api-key header is required" "empty x-api-key" -H \
  'x-api-key:' -H 'anthropic-version: 2023-06-01'
ant_bad "$GOOD" 400 invalid_request_error "anthropic-version: header is required" \
  "no anthropic-version" -H 'x-api-key: k'
ant_bad '{"model":"c","max_tokens":5,' 400 invalid_request_error "not valid JSON" "truncated JSON" \
  "${AH[@]}"
ant_bad '{"model":"c",'"$U"'}' 400 invalid_request_error "max_tokens: required, an integer >= 1" \
  "missing max_tokens" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":0,'"$U"'}' 400 invalid_request_error \
  "max_tokens: required, an integer >= 1" "max_tokens 0" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":"5",'"$U"'}' 400 invalid_request_error "max_tokens" \
  "max_tokens as a string" "${AH[@]}"
ant_bad '{"max_tokens":5,'"$U"'}' 400 invalid_request_error "model: required" "missing model" \
  "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"messages":[]}' 400 invalid_request_error \
  "messages: required, a non-empty array" "empty messages" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]}' 400 \
  invalid_request_error 'messages[0].role: expected one of "user", "assistant"' \
  "system role inside messages" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"messages":[{"role":"user"}]}' 400 invalid_request_error \
  "messages[0].content: expected a string or an array of content parts" "message without content" \
  "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"system":5,'"$U"'}' 400 invalid_request_error \
  "system: expected a string or an array of text blocks" "system of the wrong type" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"system":[{"type":"text"}],'"$U"'}' 400 invalid_request_error \
  'system[0]: expected a text block' "system block without text" "${AH[@]}"
ant_bad '{"model":"c","max_tokens":5,"tools":[{"input_schema":{}}],'"$U"'}' 400 \
  invalid_request_error "tools[0].name: required" "tool without a name" "${AH[@]}"
two_users='"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]'
messages '{"model":"c","max_tokens":5,"system":[{"type":"text","text":"s"}],'"$two_users"'}'
assert_status 200 "alternation is not checked; system blocks accepted"

# ---- embeddings ----
emb_bad() { # BODY MESSAGE-PART DESC
  http POST "$MOCK/v1/embeddings" --data "$1"
  assert_status 400 "$3"
  assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" "$2" "$3: message"
}
emb_bad '{"model":"e"}' "input: required" "embeddings without input"
emb_bad '{"model":"e","input":""}' "input: required, a non-empty string" "empty input"
emb_bad '{"model":"e","input":[]}' "input: required" "empty input array"
emb_bad '{"model":"e","input":["a",""]}' \
  "input[1]: expected a non-empty string or an array of token ids" "an empty string inside input"
emb_bad '{"model":"e","input":[1.5]}' "input[0]: expected" "a float inside input"
emb_bad '{"model":"e","input":"x","dimensions":0}' "dimensions: expected an integer in 1..4096" \
  "dimensions 0"
emb_bad '{"model":"e","input":"x","dimensions":5000}' "dimensions: expected an integer in 1..4096" \
  "dimensions 5000"
emb_bad '{"model":"e","input":"x","encoding_format":"hex"}' \
  'encoding_format: expected "float" or "base64"' "unknown encoding_format"
emb_bad '{"input":"x"}' "model: required" "embeddings without model"
http POST "$MOCK/v1/embeddings" --data '{"model":"e","input":[[1,2,3],[4]]}'
assert_json "$HTTP_BODY" '[d["index"] for d in j["data"]]' '[0, 1]' "token-id arrays are inputs"
http POST "$MOCK/v1/embeddings" --data '{"model":"e","input":[1,2,3]}'
assert_json "$HTTP_BODY" 'len(j["data"])' 1 "one token-id array is one input"

# ---- paths and methods ----
http GET "$MOCK/v1/chat/completions"
assert_status 405 "GET /v1/chat/completions"
assert_eq POST "$(header allow)" "405 Allow: POST"
assert_json "$HTTP_BODY" 'j["error"]["code"]' method_not_allowed "405 in OpenAI's shape"
http PUT "$MOCK/v1/messages" "${AH[@]}"
assert_status 405 "PUT /v1/messages"
assert_json "$HTTP_BODY" '[j["type"], j["error"]["type"]]' '["error", "invalid_request_error"]' \
  "405 on /v1/messages in Anthropic's shape"
http POST "$MOCK/v1/models" --data '{}'
assert_status 405 "POST /v1/models"
assert_eq GET "$(header allow)" "405 Allow: GET"
http POST "$MOCK/v1/completions" --data '{}'
assert_status 404 "unknown path"
assert_json "$HTTP_BODY" 'j["error"]["code"]' not_found "404 code not_found"
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "unknown path /v1/completions (known: POST /v1/chat/completions" "404 lists the known paths"
http GET "$MOCK/"
assert_status 404 "GET /"
http POST "$MOCK/v1/messages?beta=true" "${AH[@]}" --data "$GOOD"
assert_status 200 "a query string does not change the route"
assert_json "$(stat 'j["by_status"]')" \
  'j["400"] == 40 and j["401"] == 2 and j["404"] == 2 and j["405"] == 3' true \
  "bad requests are counted by status"

stop_mock "exits 0 after the bad requests"
finish
