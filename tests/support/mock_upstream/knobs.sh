#!/usr/bin/env bash
# knobs.sh - every knob of oc-mock-upstream as a flag, a request header and
# a /mock/config key; the control API (/mock/config, /mock/stats,
# /mock/reset); failure injection, the 429 window, stalls and client
# aborts; malformed knobs. Timing checks are loose lower bounds with
# generous upper bounds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=mock_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mock_lib.sh"

BODY='{"model":"m","messages":[{"role":"user","content":"knob test"}]}'
SBODY='{"model":"m","stream":true,"messages":[{"role":"user","content":"knob test"}]}'
ABODY='{"model":"c","max_tokens":16,"messages":[{"role":"user","content":"knob test"}]}'

# ---- command-line flags: malformed values ----
bad_flag() { # DESC EXPECTED-IN-STDERR ARGS...
  local desc=$1 want=$2
  shift 2
  run "$MOCK_BIN" "$@"
  assert_rc 2 "$desc: usage error"
  assert_contains "$RUN_ERR" "$want" "$desc: the message names the flag and what it accepts"
}
bad_flag "--latency-ms abc" "--latency-ms: 'abc' is not an integer in 0..600000" --latency-ms abc
bad_flag "--latency-ms -5" "--latency-ms: '-5' is not an integer in 0..600000" --latency-ms -5
bad_flag "--latency-ms 600001" "is not an integer in 0..600000" --latency-ms 600001
bad_flag "--chunks 0" "--chunks: '0' is not an integer in 1..100000" --chunks 0
bad_flag "--fail-rate 1.5" "--fail-rate: '1.5' is not a number in 0..1" --fail-rate 1.5
bad_flag "--fail-rate abc" "--fail-rate: 'abc' is not a number in 0..1" --fail-rate abc
bad_flag "--fail-status 200" "--fail-status: '200' is not an HTTP status in 400..599" \
  --fail-status 200
bad_flag "--status 302" "--status: '302' is not 0 (off) or an HTTP status in 400..599" --status 302
bad_flag "--rate-limit 1:2" \
  "--rate-limit: '1:2' is not \"EVERY:FOR\" seconds with 1 <= FOR < EVERY" --rate-limit 1:2
bad_flag "--rate-limit 5" "--rate-limit: '5' is not" --rate-limit 5
bad_flag "--size too big" "--size: '99999999' is not an integer in 0..16777216" --size 99999999
bad_flag "--stream-error-after -2" "--stream-error-after: '-2' is not an integer in -1..100000" \
  --stream-error-after -2
bad_flag "--workers 0" "--workers: '0' is not an integer in 1..64" --workers 0
bad_flag "--port 70000" "--port: '70000' is not a port in 0..65535" --port 70000
bad_flag "--models a,,b" "--models: 'a,,b' is not a comma-separated list" --models a,,b
bad_flag "unknown flag" "run oc-mock-upstream --help" --bogus
bad_flag "positional argument" "unexpected argument 'extra'" extra
run "$MOCK_BIN" --host not-an-ip --port 0
assert_rc 1 "--host not-an-ip: start-up error"
assert_contains "$RUN_ERR" "--host: 'not-an-ip' is not an IPv4 or IPv6 address" \
  "--host error names the value"
run "$MOCK_BIN" --help
assert_rc 0 "--help exits 0"
for k in latency-ms:x-mock-latency-ms:latency_ms chunks:x-mock-chunks:chunks \
  chunk-interval-ms:x-mock-chunk-interval-ms:chunk_interval_ms \
  fail-rate:x-mock-fail-rate:fail_rate fail-status:x-mock-fail-status:fail_status \
  status:x-mock-status:status \
  retry-after:x-mock-retry-after:retry_after_s stall:x-mock-stall:stall size:x-mock-size:size \
  tools:x-mock-tools:tools echo:x-mock-echo:echo \
  stream-error-after:x-mock-stream-error-after:stream_error_after; do
  IFS=: read -r flag hdr key <<<"$k"
  [[ "$RUN_OUT" == *"--$flag"*"header $hdr; JSON \"$key\""* ]] ||
    fail "--help does not document --$flag / $hdr / $key"
done
assert_contains "$RUN_OUT" '--rate-limit V' "--help documents --rate-limit"
pass "--help documents every knob's flag, header and JSON key"

# ---- flags set the defaults ----
start_mock --latency-ms 1000 --chunks 3 --chunk-interval-ms 100 --size 40 --echo --tools \
  --fail-status 502 --retry-after 9 --stream-error-after 7 --seed 42
http GET "$MOCK/mock/config"
assert_status 200 "GET /mock/config"
want='{"chunk_interval_ms": 100, "chunks": 3, "echo": true, "fail_rate": 0, "fail_status": 502, '
want+='"latency_ms": 1000, "rate_limit": "off", "retry_after_s": 9, "size": 40, "stall": false, '
want+='"status": 0, "stream_error_after": 7, "tools": true}'
assert_json "$HTTP_BODY" 'j' "$want" "/mock/config shows the flags' values"
# Times: events are never early, so lower bounds are exact; upper bounds
# are generous (a loaded machine is slow, never fast).
run_timed curl -sS --max-time 20 -o /dev/null "$MOCK/v1/chat/completions" --data "$BODY"
((RUN_MS >= 990 && RUN_MS < 15000)) || fail "--latency-ms 1000: answered in $RUN_MS ms"
pass "--latency-ms 1000 delays the answer ($RUN_MS ms)"
chat "$BODY"
content=$(json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]')
assert_contains "$content" ": knob test" "--echo: the reply includes the last user message"
assert_eq 40 "${#content}" "--size 40: content padded to 40 characters"
chat '{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",'\
'"function":{"name":"f"}}]}'
assert_json "$HTTP_BODY" 'j["choices"][0]["finish_reason"]' tool_calls \
  "--tools: tool call when tools are offered"
client stream "$MOCK_PORT" /v1/chat/completions "$SBODY"
assert_json "$CLIENT" '[len(j["chunks"]), "mock_stream_error" in j["chunks"][4]]' '[5, true]' \
  "--chunks 3, --stream-error-after 7: role + 3 pieces + the error in place of the tail"
assert_json "$CLIENT" 'j["event_ms"][0] >= 990' true \
  "stream: first event after --latency-ms ($(json_get "$CLIENT" 'j["event_ms"][0]') ms)"
assert_json "$CLIENT" 'j["event_ms"][3] >= 1190' true \
  "--chunk-interval-ms 100: piece 3 due 2 intervals on ($(json_get "$CLIENT" 'j["event_ms"]'))"

# ---- headers override per request ----
run_timed curl -sS --max-time 10 -o /dev/null -H 'x-mock-latency-ms: 0' \
  "$MOCK/v1/chat/completions" --data "$BODY"
((RUN_MS < 900)) || fail "x-mock-latency-ms: 0 over --latency-ms 1000: took $RUN_MS ms"
pass "x-mock-latency-ms: 0 overrides the flag ($RUN_MS ms)"
chat "$BODY" -H 'x-mock-latency-ms: 0' -H 'x-mock-echo: 0' -H 'x-mock-size: 1000'
content=$(json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]')
assert_eq 1000 "${#content}" "x-mock-size: 1000: content is 1000 characters"
assert_not_contains "$content" "knob test" "x-mock-echo: 0 turns echo off"
client stream "$MOCK_PORT" /v1/chat/completions "$SBODY" -H 'x-mock-latency-ms: 0' -H \
  'x-mock-chunks: 5' -H 'x-mock-chunk-interval-ms: 60' -H 'x-mock-stream-error-after: -1'
assert_json "$CLIENT" 'len(j["chunks"])' 8 "x-mock-chunks: 5"
assert_json "$CLIENT" 'j["event_ms"][5] >= 230' true \
  "x-mock-chunk-interval-ms: 60: piece 5 due 4 intervals on ($(json_get "$CLIENT" 'j["event_ms"]'))"
assert_json "$CLIENT" 'j["event_ms"][0] < 900' true \
  "x-mock-latency-ms: 0 on a stream: first event at once"
stop_mock "mock with flags exits 0"

start_mock --seed 7
# x-mock-status, x-mock-retry-after, both dialects
chat "$BODY" -H 'x-mock-status: 503'
assert_status 503 "x-mock-status: 503"
assert_json "$HTTP_BODY" 'sorted(j["error"])' '["code", "message", "param", "type"]' \
  "OpenAI error shape"
assert_json "$HTTP_BODY" '[j["error"]["type"], j["error"]["code"]]' \
  '["server_error", "mock_forced_status"]' "503: server_error, code mock_forced_status"
assert_eq 1 "$(header retry-after)" "503 carries Retry-After (default 1)"
chat "$BODY" -H 'x-mock-status: 429' -H 'x-mock-retry-after: 7'
assert_status 429 "x-mock-status: 429"
assert_eq 7 "$(header retry-after)" "x-mock-retry-after: 7 -> Retry-After: 7"
assert_json "$HTTP_BODY" 'j["error"]["code"]' rate_limit_exceeded "429 code rate_limit_exceeded"
chat "$BODY" -H 'x-mock-status: 400'
assert_eq "" "$(header retry-after)" "no Retry-After on a forced 400"
messages "$ABODY" -H 'x-mock-status: 529'
assert_status 529 "Anthropic x-mock-status: 529"
assert_json "$HTTP_BODY" '[j["type"], j["error"]["type"]]' '["error", "overloaded_error"]' \
  "Anthropic error shape: overloaded_error"
messages "$ABODY" -H 'x-mock-status: 429'
assert_json "$HTTP_BODY" 'j["error"]["type"]' rate_limit_error "Anthropic 429: rate_limit_error"
http POST "$MOCK/v1/embeddings" -H 'x-mock-status: 500' --data '{"model":"e","input":"x"}'
assert_status 500 "x-mock-status applies to embeddings"
http GET "$MOCK/v1/models" -H 'x-mock-status: 500'
assert_status 200 "knobs do not apply to /v1/models"
chat "$BODY" -H 'x-mock-fail-rate: 1' -H 'x-mock-fail-status: 502'
assert_status 502 "x-mock-fail-rate: 1 with x-mock-fail-status: 502"
assert_json "$HTTP_BODY" 'j["error"]["code"]' mock_injected_failure "injected failure code"
chat "$BODY" -H 'x-mock-fail-rate: 0'
assert_status 200 "x-mock-fail-rate: 0"

# mid-stream error events
client stream "$MOCK_PORT" /v1/chat/completions "$SBODY" -H 'x-mock-chunks: 5' -H \
  'x-mock-stream-error-after: 2' -H 'x-mock-chunk-interval-ms: 0'
assert_json "$CLIENT" 'j["status"]' 200 "stream_error_after: the stream starts 200"
assert_json "$CLIENT" 'len(j["chunks"])' 4 "OpenAI: role + 2 pieces + error, no [DONE]"
assert_json "$CLIENT" '__import__("json").loads(j["chunks"][3][6:])["error"]["code"]' \
  mock_stream_error "OpenAI: a data: {error} event ends the stream"
ASBODY='{"model":"c","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"x"}]}'
client stream "$MOCK_PORT" /v1/messages "$ASBODY" -H 'x-api-key: k' \
  -H 'anthropic-version: 2023-06-01' -H 'x-mock-chunks: 5' -H 'x-mock-stream-error-after: 2'
assert_json "$CLIENT" '[c.split("\n")[0][7:] for c in j["chunks"]]' \
  '["message_start", "content_block_start", "ping", "content_block_delta", '\
'"content_block_delta", "error"]' "Anthropic: error event after 2 deltas"
assert_json "$CLIENT" \
  '__import__("json").loads(j["chunks"][5].split("data: ")[1])["error"]["type"]' overloaded_error \
  "Anthropic error event: overloaded_error"
client stream "$MOCK_PORT" /v1/chat/completions "$SBODY" -H 'x-mock-chunks: 2' -H \
  'x-mock-stream-error-after: 9'
assert_json "$CLIENT" '[len(j["chunks"]), "error" in j["chunks"][3]]' '[4, true]' \
  "stream_error_after beyond the chunks: the error replaces the tail"

# malformed knob headers
chat "$BODY" -H 'x-mock-latency-ms: soon'
assert_status 400 "malformed x-mock-latency-ms"
assert_json "$HTTP_BODY" 'j["error"]["message"]' \
  "x-mock-latency-ms: 'soon' is not an integer in 0..600000" \
  "the error names the header, the value and the range"
assert_json "$HTTP_BODY" 'j["error"]["code"]' bad_knob "code bad_knob"
messages "$ABODY" -H 'x-mock-chunks: 0'
assert_status 400 "Anthropic: malformed x-mock-chunks"
assert_json "$HTTP_BODY" '[j["type"], j["error"]["type"]]' '["error", "invalid_request_error"]' \
  "knob error in Anthropic's shape on /v1/messages"
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "x-mock-chunks: '0' is not an integer in 1..100000" \
  "Anthropic knob error names header and range"
chat "$BODY" -H 'x-mock-status: 200'
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "x-mock-status: '200' is not 0 (off) or an HTTP status in 400..599" "x-mock-status: 200 refused"
chat "$BODY" -H 'x-mock-fail-rate: 2'
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "x-mock-fail-rate: '2' is not a number in 0..1" "x-mock-fail-rate: 2 refused"
chat "$BODY" -H 'x-mock-stall: maybe'
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "x-mock-stall: 'maybe' is not one of 1, 0, true, false" "x-mock-stall: maybe refused"
chat "$BODY" -H 'x-mock-latncy-ms: 5'
assert_status 400 "unknown x-mock-* header"
assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" \
  "unknown knob header x-mock-latncy-ms (known: x-mock-latency-ms" \
  "unknown header error lists the known ones"

# ---- control API ----
http POST "$MOCK/mock/reset"
assert_status 200 "POST /mock/reset"
chat "$BODY"
assert_json "$HTTP_BODY" 'j["choices"][0]["message"]["content"]' "mock reply 1" \
  "reset restarts the reply numbers"
http POST "$MOCK/mock/reset"
assert_json "$(stat 'j')" \
  '[j["requests_total"], j["by_status"], j["bytes_out"], j["client_aborts"]]' '[0, {}, 0, 0]' \
  "reset zeroes the counters"
chat "$BODY"
chat "$BODY" -H 'x-mock-status: 503'
messages "$ABODY"
http GET "$MOCK/v1/models"
http GET "$MOCK/nowhere"
sse /v1/chat/completions "$SBODY" -H 'x-mock-chunks: 2'
s=$(stat 'j')
assert_json "$s" 'j["requests_total"]' 6 "stats: requests_total (control requests not counted)"
assert_json "$s" 'j["by_endpoint"]' \
  '{"chat_completions": 3, "embeddings": 0, "messages": 1, "models": 1, "other": 1}' \
  "stats: by_endpoint"
assert_json "$s" 'j["by_status"]' '{"200": 4, "404": 1, "503": 1}' "stats: by_status"
assert_json "$s" '[j["streams_total"], j["streams_open"], j["streams_max"], j["chunks_out"]]' \
  '[1, 0, 1, 5]' "stats: one stream of 5 events"
assert_json "$s" 'j["bytes_out"] > 1000' true "stats: bytes_out"

all='{"latency_ms":0,"chunks":2,"size":12,"echo":true,"fail_rate":0,"status":0,"tools":false,'
all+='"retry_after_s":3,"chunk_interval_ms":0,"stall":false,"fail_status":500,'
all+='"stream_error_after":-1,"rate_limit":"off"}'
http POST "$MOCK/mock/config" --data "$all"
assert_status 200 "POST /mock/config with every key"
assert_json "$HTTP_BODY" '[j["chunks"], j["size"], j["echo"], j["retry_after_s"]]' \
  '[2, 12, true, 3]' "the answer is the config in effect"
http POST "$MOCK/mock/config" --data '{"status":503}'
assert_json "$HTTP_BODY" '[j["status"], j["chunks"]]' '[503, 2]' \
  "a partial update keeps the other knobs"
chat "$BODY"
assert_status 503 "config status 503 applies to chat"
assert_eq 3 "$(header retry-after)" "config retry_after_s 3"
messages "$ABODY"
assert_status 503 "config status applies to every model call, also the next ones"
http POST "$MOCK/mock/config" --data '{"status":0}'
chat "$BODY" -H 'x-mock-size: 0'
assert_status 200 "status 0 turns forcing off"
assert_contains "$(json_get "$HTTP_BODY" 'j["choices"][0]["message"]["content"]')" ": knob test" \
  "config echo true"

bad_config() { # BODY EXPECTED-IN-MESSAGE DESC
  http POST "$MOCK/mock/config" --data "$1"
  assert_status 400 "$3"
  assert_contains "$(json_get "$HTTP_BODY" 'j["error"]["message"]')" "$2" "$3: message"
}
bad_config '{"latency_ms":"5"}' 'latency_ms: expected an integer in 0..600000, got "5"' \
  "config: wrong type"
bad_config '{"chunks":0}' 'chunks: expected an integer in 1..100000, got 0' "config: out of range"
bad_config '{"fail_rate":1.5}' 'fail_rate: expected a number in 0..1, got 1.5' \
  "config: fail_rate > 1"
bad_config '{"echo":1}' 'echo: expected true or false, got 1' "config: boolean as a number"
bad_config '{"rate_limit":"3:3"}' 'rate_limit: expected "EVERY:FOR" seconds' \
  "config: bad rate_limit"
bad_config '{"latncy_ms":5}' 'unknown knob "latncy_ms" (known: latency_ms' "config: unknown key"
bad_config '[1]' 'the body must be a JSON object of knobs' "config: not an object"
bad_config '{"latency_ms":' 'not valid JSON' "config: malformed JSON"
bad_config '' 'the request body is empty' "config: empty body"
bad_config '{"size":5,"chunks":-1}' 'chunks: expected an integer' "config: one bad key"
http GET "$MOCK/mock/config"
assert_json "$HTTP_BODY" 'j["size"]' 12 "a refused update changes nothing (all or nothing)"
http DELETE "$MOCK/mock/config"
assert_status 405 "DELETE /mock/config"
assert_eq "GET, POST" "$(header allow)" "405 names the allowed methods"
http GET "$MOCK/mock/reset"
assert_status 405 "GET /mock/reset"
http GET "$MOCK/mock/nothing"
assert_status 404 "unknown control path"
http POST "$MOCK/mock/reset"
assert_json "$HTTP_BODY" '[j["status"], j["echo"], j["chunks"], j["size"]]' '[0, false, 5, 0]' \
  "reset restores the command-line defaults"

# ---- fail_rate: a share, not all or nothing ----
http POST "$MOCK/mock/config" --data '{"fail_rate":0.5,"fail_status":500}'
fails=0
for ((i = 0; i < 200; i++)); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' "$MOCK/v1/chat/completions" --data "$BODY")
  [[ "$code" == 500 ]] && fails=$((fails + 1))
done
((fails > 40 && fails < 160)) || fail "fail_rate 0.5: $fails of 200 failed"
pass "fail_rate 0.5: $fails of 200 requests failed"
assert_json "$(stat 'j["by_status"]')" 'j["500"] + j["200"]' 200 "stats count both outcomes"
http POST "$MOCK/mock/reset"

# ---- the 429 window ----
http POST "$MOCK/mock/config" --data '{"rate_limit":"2:1"}'
assert_json "$HTTP_BODY" 'j["rate_limit"]' 2:1 "rate_limit set at run time"
got_429() {
  chat "$BODY"
  [[ "$HTTP_CODE" == 429 ]]
}
got_200() {
  chat "$BODY"
  [[ "$HTTP_CODE" == 200 ]]
}
wait_until 5000 got_429 || fail "rate_limit 2:1: no 429 within 5 s"
pass "rate_limit 2:1: a 429 window comes"
assert_eq 1 "$(header retry-after)" "the window's Retry-After is the rest of the window"
assert_json "$HTTP_BODY" 'j["error"]["code"]' rate_limit_exceeded "window 429 code"
wait_until 5000 got_200 || fail "rate_limit 2:1: the window never ends"
pass "the window ends: 200 again"
wait_until 5000 got_429 || fail "rate_limit 2:1: the window does not repeat"
pass "the window repeats"
http POST "$MOCK/mock/reset"
stop_mock "oc-mock-upstream exits 0 on SIGTERM"

start_mock --rate-limit 4:2 --quiet
chat "$BODY"
assert_status 200 "--rate-limit 4:2: the first 2 s are open"
wait_until 8000 got_429 || fail "--rate-limit 4:2: no 429"
assert_match "$(header retry-after)" '^[12]$' "--rate-limit window Retry-After 1..2"
http POST "$MOCK/mock/config" --data '{"rate_limit":"off"}'
assert_json "$HTTP_BODY" 'j["rate_limit"]' off "rate_limit off at run time"
stop_mock "oc-mock-upstream exits 0 on SIGTERM"

start_mock --quiet

# ---- stall, and client aborts ----
http POST "$MOCK/mock/reset"
curl -sS --max-time 3 -o /dev/null -H 'x-mock-stall: 1' "$MOCK/v1/chat/completions" --data "$BODY" \
  2>/dev/null &
cpid=$!
wait_stat 'j["stalled_now"]' 1 "x-mock-stall: the request is held (stalled_now 1)"
crc=0
wait "$cpid" || crc=$?
assert_eq 28 "$crc" "the stalled request gets no answer (curl times out)"
wait_stat '[j["stalled_now"], j["client_aborts"]]' '[0, 1]' \
  "the client leaving frees the stall and counts an abort"

http POST "$MOCK/mock/config" --data '{"stall":true}'
curl -sS --max-time 2 -o /dev/null "$MOCK/v1/messages" -H 'x-api-key: k' -H 'anthropic-version: 1' \
  --data "$ABODY" 2>/dev/null &
cpid=$!
wait_stat 'j["stalled_now"]' 1 "config stall holds model calls"
http GET "$MOCK/v1/models"
assert_status 200 "stall does not hold /v1/models"
wait "$cpid" || true
wait_stat 'j["client_aborts"]' 2 "second abort counted"
http POST "$MOCK/mock/reset"

client abort "$MOCK_PORT" /v1/chat/completions "$SBODY" -H 'x-mock-chunks: 50' -H \
  'x-mock-chunk-interval-ms: 200' --after-events 2
assert_json "$CLIENT" '[j["status"], j["events"]]' '[200, 2]' "client reads 2 events, then closes"
wait_stat '[j["streams_open"], j["client_aborts"], j["streams_total"]]' '[0, 1, 1]' \
  "mid-stream close frees the stream and counts an abort"
curl -sS --max-time 1 -o /dev/null -H 'x-mock-latency-ms: 5000' "$MOCK/v1/chat/completions" --data \
  "$BODY" 2>/dev/null || true
wait_stat 'j["client_aborts"]' 2 "leaving during the latency counts an abort"

# SIGTERM with a stream, a stall and a delayed answer in flight
curl -sS --max-time 20 -o /dev/null -H 'x-mock-stall: 1' "$MOCK/v1/chat/completions" --data \
  "$BODY" 2>/dev/null &
curl -sS --max-time 20 -o /dev/null -H 'x-mock-latency-ms: 10000' "$MOCK/v1/chat/completions" \
  --data "$BODY" 2>/dev/null &
curl -sS -N --max-time 20 -o /dev/null -H 'x-mock-chunks: 100' -H 'x-mock-chunk-interval-ms: 100' \
  "$MOCK/v1/chat/completions" --data "$SBODY" 2>/dev/null &
wait_stat '[j["stalled_now"], j["streams_open"]]' '[1, 1]' "a stall and a stream in flight"
stop_mock "exits 0 on SIGTERM with a stream, a stall and a delayed answer in flight"
wait
finish
