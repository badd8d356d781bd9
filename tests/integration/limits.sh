#!/usr/bin/env bash
# limits.sh - request limits and concurrency on the main port (SPEC §5
# server.limits, §12): oversized bodies, oversized headers, many parallel
# connections.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
API_KEY="it-limits-key-8b2d4f6a10"
CFG="$TEST_TMP/gateway.yaml"
cat >"$CFG" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
  limits:
    maxBodyBytes: 1024
auth:
  apiKey: "$API_KEY"
monitoring:
  metricsPort: $MPORT
EOF
BASE="http://127.0.0.1:$PORT"

start_daemon --config "$CFG"
pass "gateway start --daemon with server.limits.maxBodyBytes 1024"

BIG="$TEST_TMP/body-4k.json"
SMALL="$TEST_TMP/body-512.json"
python3 -c 'import json, sys
for path, n in ((sys.argv[1], 4096), (sys.argv[2], 512)):
    pad = n - len(json.dumps({"model": "openclaw/main", "pad": ""}))
    with open(path, "w") as f:
        f.write(json.dumps({"model": "openclaw/main", "pad": "x" * pad}))' "$BIG" "$SMALL"
assert_eq 4096 "$(wc -c <"$BIG" | tr -d ' ')" "4 KiB body prepared"

# ---- bodies over server.limits.maxBodyBytes ----
# The limit is enforced before routing and auth: 413 whatever the route.
http POST "$BASE/v1/models" --data-binary "@$BIG" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $API_KEY"
assert_status 413 "POST /v1/models with a 4 KiB body (limit 1 KiB, authenticated)"

http POST "$BASE/v1/models" --data-binary "@$BIG" -H 'Content-Type: application/json' \
  -H 'Expect:' -H "Authorization: Bearer $API_KEY"
assert_status 413 "POST /v1/models with a 4 KiB body, no Expect: 100-continue"

http POST "$BASE/v1/models" --data-binary "@$BIG" -H 'Content-Type: application/json' -H 'Expect:'
assert_status 413 "POST /v1/models with a 4 KiB body, no credentials"

http POST "$BASE/v1/models" --data-binary "@$BIG" -H 'Content-Type: application/json' \
  -H 'Transfer-Encoding: chunked' -H 'Expect:' -H "Authorization: Bearer $API_KEY"
assert_status 413 "POST /v1/models with a chunked 4 KiB body"

http POST "$BASE/health" --data-binary "@$BIG" -H 'Expect:'
assert_status 413 "POST /health with a 4 KiB body"

# Under the limit the body is fine and the route answers for itself.
http POST "$BASE/v1/models" --data-binary "@$SMALL" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $API_KEY"
assert_status 405 "POST /v1/models with a 512-byte body (under the limit) is 405, not 413"
assert_json "$HTTP_BODY" 'j["error"]["type"]' invalid_request_error "405 on /v1 has the OpenAI error shape"

http GET "$BASE/health"
assert_status 200 "/health after the oversized bodies"

# ---- a 20 KiB request header ----
HUGE=$(head -c 20480 /dev/zero | tr '\0' 'a')
http GET "$BASE/health" -H "X-Big: $HUGE"
case "$HTTP_CODE" in
  431 | 400) pass "GET /health with a 20 KiB header is refused ($HTTP_CODE)" ;;
  *) fail "GET /health with a 20 KiB header
  expected: 431 or 400
  actual:   $HTTP_CODE
  headers: $HTTP_HEADERS
  body: $(_short "$HTTP_BODY")" ;;
esac
echo "note: a 20 KiB request header got HTTP $HTTP_CODE"
http GET "$BASE/v1/models" -H "X-Big: $HUGE" -H "Authorization: Bearer $API_KEY"
case "$HTTP_CODE" in
  431 | 400) pass "GET /v1/models with a 20 KiB header is refused ($HTTP_CODE)" ;;
  *) fail "GET /v1/models with a 20 KiB header
  expected: 431 or 400
  actual:   $HTTP_CODE" ;;
esac

http GET "$BASE/health"
assert_status 200 "/health after the oversized header"

# ---- 500 requests over up to 50 parallel connections ----
N=500
URLS="$TEST_TMP/urls.curl"
for ((i = 0; i < N; i++)); do
  printf 'url = "%s/health"\noutput = "/dev/null"\n' "$BASE"
done >"$URLS"
CODES="$TEST_TMP/codes.txt"
# (curl 7.88 draws its --parallel progress meter even with -s: stderr to a file.)
curl -sS --no-progress-meter --parallel --parallel-max 50 --max-time 30 -K "$URLS" \
  -w '%{http_code}\n' >"$CODES" 2>"$TEST_TMP/parallel.err" ||
  fail "curl --parallel exited $? ($(sort "$CODES" | uniq -c | tr '\n' ' ')): $(grep -v '^DL%' "$TEST_TMP/parallel.err" | head -n 5)"
total=$(wc -l <"$CODES" | tr -d ' ')
ok=$(grep -c '^200$' "$CODES" || true)
assert_eq "$N" "$total" "$N parallel requests completed"
assert_eq "$N" "$ok" "all $N parallel GET /health answered 200 (codes: $(sort "$CODES" | uniq -c | tr '\n' ' '))"

http GET "$BASE/readyz"
assert_status 200 "/readyz after the parallel load"

# ---- error bodies of the limits (SPEC §6: JSON errors, OpenAI shape on /v1) ----
http POST "$BASE/v1/models" --data-binary "@$BIG" -H 'Content-Type: application/json' -H 'Expect:' \
  -H "Authorization: Bearer $API_KEY"
assert_status 413 "POST /v1/models with a 4 KiB body (again, for its body)"
assert_match "$(header content-type)" '^application/json' "413 on /v1/models is JSON (content-type)"
assert_json "$HTTP_BODY" 'isinstance(j["error"], dict) and all(k in j["error"] for k in ("message", "type", "code"))' \
  true "413 on /v1/models has the OpenAI error shape"
http POST "$BASE/health" --data-binary "@$BIG" -H 'Expect:'
assert_status 413 "POST /health with a 4 KiB body (again, for its body)"
assert_json "$HTTP_BODY" 'j["ok"] is False and isinstance(j["error"], dict)' true \
  "413 on /health has the {ok: false, error} shape"
http GET "$BASE/v1/models" -H "X-Big: $HUGE" -H "Authorization: Bearer $API_KEY"
assert_json "$HTTP_BODY" 'isinstance(j["error"], dict) and all(k in j["error"] for k in ("message", "type", "code"))' \
  true "$HTTP_CODE on /v1/models for a 20 KiB header has the OpenAI error shape"

finish
