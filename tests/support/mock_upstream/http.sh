#!/usr/bin/env bash
# http.sh - oc-mock-upstream's HTTP/1.1 layer: keep-alive, pipelined
# requests answered in order (also behind deferred answers and streams),
# chunked request bodies, 100-continue, HTTP/1.0, size limits, malformed
# requests, large answers, several workers, a port in use.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=mock_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mock_lib.sh"

# rawreq METHOD PATH BODY [HEADER...]: one request framed by Content-Length.
rawreq() {
  local LC_ALL=C method=$1 p=$2 b=$3 h
  shift 3
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n' "$method" "$p"
  for h in "$@"; do
    printf '%s\r\n' "$h"
  done
  printf 'Content-Length: %d\r\n\r\n%s' "${#b}" "$b"
}

# chunkreq PATH PART1 PART2 [HEADER...]: a request with a chunked body in two
# chunks (one with an extension) and a trailer field.
chunkreq() {
  local LC_ALL=C p=$1 a=$2 b=$3 h
  shift 3
  printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n' "$p"
  for h in "$@"; do
    printf '%s\r\n' "$h"
  done
  printf '\r\n%x;name=value\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n' "${#a}" "$a" "${#b}" \
    "$b"
}

msg() { # MODEL [EXTRA-MEMBERS]: a chat body
  printf '{"model":"%s","messages":[{"role":"user","content":"pipe"}]%s}' "$1" "${2:-}"
}

start_mock

# ---- pipelining: six requests in one write, answered in order ----
pipeline() {
  rawreq POST /v1/chat/completions "$(msg p1)"
  rawreq GET /v1/models ''
  rawreq POST /v1/chat/completions "$(msg p3 ',"stream":true')" 'x-mock-latency-ms: 100' \
    'x-mock-chunks: 3' 'x-mock-chunk-interval-ms: 20'
  chunkreq /v1/messages '{"model":"p4","max_tokens":5,' \
    '"messages":[{"role":"user","content":"x"}]}' 'x-api-key: k' 'anthropic-version: 2023-06-01'
  rawreq POST /v1/chat/completions "$(msg p5)" 'x-mock-latency-ms: 50'
  rawreq POST /v1/embeddings '{"model":"p6","input":"x"}'
}
check_pipeline() { # DESC-SUFFIX
  assert_json "$CLIENT" '[r.get("status") for r in j["responses"]]' \
    '[200, 200, 200, 200, 200, 200]' "pipelined: six answers$1"
  assert_json "$CLIENT" '__import__("json").loads(j["responses"][0]["body"])["model"]' p1 \
    "pipelined: 1st answer is p1's$1"
  assert_json "$CLIENT" '__import__("json").loads(j["responses"][1]["body"])["object"]' list \
    "pipelined: 2nd is the model list$1"
  assert_json "$CLIENT" \
    '[len(j["responses"][2]["chunks"]), "\"model\":\"p3\"" in j["responses"][2]["body"]]' \
    '[6, true]' "pipelined: 3rd is p3's stream, 6 events$1"
  assert_json "$CLIENT" '__import__("json").loads(j["responses"][3]["body"])["model"]' p4 \
    "pipelined: 4th is p4's message (chunked request body)$1"
  assert_json "$CLIENT" '__import__("json").loads(j["responses"][4]["body"])["model"]' p5 \
    "pipelined: 5th is p5's (after its latency)$1"
  assert_json "$CLIENT" '__import__("json").loads(j["responses"][5]["body"])["model"]' p6 \
    "pipelined: 6th is p6's embeddings$1"
  assert_json "$CLIENT" '[j["closed"], j["leftover"]]' '[false, ""]' \
    "pipelined: the connection stays open, nothing extra$1"
}
client exchange "$MOCK_PORT" 6 < <(pipeline)
check_pipeline ""
client exchange "$MOCK_PORT" 6 --trickle < <(pipeline)
check_pipeline " (sent 3 bytes at a time)"
client exchange "$MOCK_PORT" 2 < <(rawreq POST /v1/chat/completions "$(msg p7 ',"stream":true')" \
  'x-mock-chunk-interval-ms: 0'; rawreq GET /v1/models '')
assert_json "$CLIENT" '[len(j["responses"][0]["chunks"]), j["responses"][1].get("status")]' \
  '[8, 200]' "pipelined: a request behind an instant stream (no latency, no interval)"

# ---- keep-alive with curl ----
conns=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects} ' \
  "$MOCK/v1/models" "$MOCK/v1/models")
assert_eq "1 0 " "$conns" "curl reuses the connection for a second request"
client exchange "$MOCK_PORT" 1 < <(rawreq GET /v1/models '' 'Connection: close')
assert_json "$CLIENT" \
  '[j["responses"][0]["status"], j["responses"][0]["headers"]["connection"], j["closed"]]' \
  '[200, "close", true]' "Connection: close is honoured"

# ---- Expect: 100-continue ----
run_timed curl -sS -o /dev/null -w '%{http_code}' --expect100-timeout 5 -H 'Expect: 100-continue' \
  "$MOCK/v1/chat/completions" --data "$(msg e1)"
assert_eq 200 "$RUN_OUT" "request with Expect: 100-continue"
((RUN_MS < 3000)) || fail "Expect: 100-continue: curl waited $RUN_MS ms (no 100 Continue?)"
pass "100 Continue sent: curl did not wait for its 5 s timeout ($RUN_MS ms)"

# ---- HTTP/1.0 ----
client exchange "$MOCK_PORT" 1 < <(printf 'GET /v1/models HTTP/1.0\r\n\r\n')
assert_json "$CLIENT" '[j["responses"][0]["status"], j["closed"]]' '[200, true]' \
  "HTTP/1.0: answered, then closed"
body=$(msg h10 ',"stream":true')
client exchange "$MOCK_PORT" 1 < <(printf \
  'POST /v1/chat/completions HTTP/1.0\r\nx-mock-chunks: 2\r\nContent-Length: %d\r\n\r\n%s' \
  "${#body}" "$body")
r0=$(json_get "$CLIENT" 'j["responses"][0]')
assert_json "$r0" '[j["status"], "transfer-encoding" in j["headers"], j["body"].count("data: ")]' \
  '[200, false, 5]' "HTTP/1.0 stream: no chunked framing"
assert_json "$r0" 'j["body"].endswith("data: [DONE]\n\n")' true "HTTP/1.0 stream: the close ends it"

# ---- size limits ----
client exchange "$MOCK_PORT" 1 < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n')
assert_json "$CLIENT" '[j["responses"][0]["status"], j["closed"]]' '[413, true]' \
  "Content-Length over 8 MiB: 413 at once, closed"
assert_json "$CLIENT" '__import__("json").loads(j["responses"][0]["body"])["error"]["code"]' \
  body_too_large "413 code body_too_large"
client exchange "$MOCK_PORT" 1 < <(printf \
  'POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n900000\r\n')
assert_json "$CLIENT" '[j["responses"][0]["status"], j["closed"]]' '[413, true]' \
  "a chunk over 8 MiB: 413 at once"
assert_json "$CLIENT" '__import__("json").loads(j["responses"][0]["body"])["type"]' error \
  "413 on /v1/messages in Anthropic's shape"
python3 -c 'import json, sys
body = {"model": "big", "messages": [{"role": "user", "content": "a" * (8 * 1024 * 1024 - 80)}]}
open(sys.argv[1], "w").write(json.dumps(body, separators=(",", ":")))' "$TEST_TMP/big.json"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$MOCK/v1/chat/completions" \
  --data-binary @"$TEST_TMP/big.json")
assert_eq 200 "$code" "a body just under 8 MiB is accepted"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
  "$MOCK/v1/chat/completions" --data-binary @"$TEST_TMP/big.json")
assert_eq 200 "$code" "the same body chunked (curl's chunks) is accepted"
curl -sS -o "$TEST_TMP/big.out" -H 'x-mock-size: 5000000' "$MOCK/v1/chat/completions" \
  --data "$(msg big)"
len=$(python3 -c 'import json, sys
print(len(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"]))' "$TEST_TMP/big.out")
assert_eq 5000000 "$len" "a 5 MB answer arrives whole"

# ---- malformed requests: 400 (or 431, 501) and the connection closes ----
bad_http() { # STATUS DESC: the raw request on stdin
  client exchange "$MOCK_PORT" 1
  assert_json "$CLIENT" '[j["responses"][0].get("status"), j["closed"]]' "[$1, true]" "$2"
}
bad_http 400 "garbage request line" < <(printf 'GARBAGE\r\n\r\n')
assert_contains "$CLIENT" "malformed request line" "the 400 says the request line is malformed"
bad_http 400 "HTTP/2.0 in an HTTP/1 request line" < <(printf 'GET /v1/models HTTP/2.0\r\n\r\n')
bad_http 400 "a target without a leading slash" < <(printf 'GET v1/models HTTP/1.1\r\n\r\n')
bad_http 400 "Content-Length and Transfer-Encoding together" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n')
assert_contains "$CLIENT" "ambiguous framing" "the 400 names the ambiguity"
bad_http 501 "Transfer-Encoding: gzip" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n')
bad_http 400 "a header line without a colon" < <(printf \
  'GET /v1/models HTTP/1.1\r\nBadHeader\r\n\r\n')
bad_http 400 "a space before the colon" < <(printf 'GET /v1/models HTTP/1.1\r\nX-A : 1\r\n\r\n')
bad_http 400 "a folded header line" < <(printf \
  'GET /v1/models HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n')
bad_http 400 "Content-Length: abc" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n')
bad_http 400 "two different Content-Length headers" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')
bad_http 400 "a malformed chunk size" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
bad_http 400 "chunk data without its CRLF" < <(printf \
  'POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY')
bad_http 431 "a 40 KB head" < <(printf 'GET /v1/models HTTP/1.1\r\nX-Big: %s\r\n\r\n' \
  "$(head -c 40000 /dev/zero | tr '\0' a)")
bad_http 431 "65 header fields" < <(printf 'GET /v1/models HTTP/1.1\r\n'; for ((i = 0; i < 65; \
  i++)); do printf 'X-%d: v\r\n' "$i"; done; printf '\r\n')
client exchange "$MOCK_PORT" 3 < <(rawreq GET /v1/models ''; printf 'BROKEN\r\n\r\n'; rawreq GET \
  /v1/models '')
assert_json "$CLIENT" '[r.get("status") for r in j["responses"]]' '[200, 400, null]' \
  "pipelined: answers before a malformed request, nothing after it"
assert_json "$CLIENT" 'j["closed"]' true "the malformed request closes the connection"

# ---- a stalled request holds the pipelined ones behind it ----
client exchange "$MOCK_PORT" 1 --timeout 1 < <(rawreq POST /v1/chat/completions "$(msg s1)" \
  'x-mock-stall: 1'; rawreq GET /v1/models '')
assert_contains "$(json_get "$CLIENT" 'j["responses"][0]')" "error" \
  "nothing is answered behind a stall (in order)"
wait_stat 'j["stalled_now"]' 0 "the stall ends with its connection"
stop_mock "exits 0 after the HTTP tests"

# ---- several workers ----
start_mock --workers 2 --quiet
for ((i = 0; i < 30; i++)); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' "$MOCK/v1/chat/completions" --data "$(msg w)")
  [[ "$code" == 200 ]] || fail "--workers 2: request $i got $code"
done
pass "--workers 2: 30 requests on new connections answered"
assert_json "$(stat 'j')" '[j["requests_total"], j["by_status"]]' '[30, {"200": 30}]' \
  "--workers 2: stats add up over the workers"
http POST "$MOCK/mock/config" --data '{"status":503}'
codes=""
for ((i = 0; i < 20; i++)); do
  codes+=$(curl -sS -o /dev/null -w '%{http_code} ' "$MOCK/v1/chat/completions" --data "$(msg w)")
done
assert_eq "$(printf '503 %.0s' {1..20})" "$codes" \
  "--workers 2: a config change reaches every worker"
http POST "$MOCK/mock/reset"
assert_json "$(stat 'j')" 'j["requests_total"]' 0 "--workers 2: reset covers every worker"
stop_mock "--workers 2 exits 0"

# ---- the port is taken ----
start_mock --quiet
run "$MOCK_BIN" --port "$MOCK_PORT"
assert_rc 1 "a second mock on a taken port fails"
assert_contains "$RUN_ERR" "cannot bind 127.0.0.1:$MOCK_PORT: Address already in use" \
  "the error names the address"
stop_mock "the first mock still exits 0"
finish
