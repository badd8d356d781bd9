#!/usr/bin/env bash
# auth.sh - the auth-apikey plugin in front of /v1 (SPEC §5 auth.*, §6 auth):
# credentials, the OpenAI error shape, the per-address rate limit and
# lockout, and secrets kept out of the log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
API_KEY="it-auth-apikey-7d3e9b1c44"
BEARER="it-auth-bearer-0a6f2e8d91"
WRONG="it-wrong-credential-55aa31"
CFG="$TEST_TMP/gateway.yaml"
cat >"$CFG" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
auth:
  apiKey: "$API_KEY"
  bearerToken: "$BEARER"
  rateLimit:
    maxAttempts: 3
    windowMs: 60000
    lockoutMs: 2000
    exemptLoopback: false
monitoring:
  metricsPort: $MPORT
EOF
BASE="http://127.0.0.1:$PORT"
# Requests that must not count against 127.0.0.1's failure budget come
# from another loopback address (the limiter counts per address).
OTHER=(--interface 127.0.0.2)
LOG="$OPENCLAW_STATE_DIR/gateway.log"

# --verbose: debug lines too, so the secrets check below sees every line.
start_daemon --config "$CFG" --verbose
pass "gateway start --daemon with apiKey and bearerToken"

assert_openai_error() { # DESC TYPE
  assert_json "$HTTP_BODY" 'sorted(j.keys()) == ["error"] and all(k in j["error"] for k in ("message", "type", "code")) and isinstance(j["error"]["message"], str)' \
    true "$1: OpenAI error shape {error: {message, type, code}}"
  assert_json "$HTTP_BODY" 'j["error"]["type"]' "$2" "$1: error type is $2"
}

# ---- missing credentials (from 127.0.0.2) ----
http GET "$BASE/v1/models" "${OTHER[@]}"
assert_status 401 "GET /v1/models without credentials"
assert_openai_error "401 without credentials" unauthorized
assert_eq nosniff "$(header x-content-type-options)" "401 carries x-content-type-options: nosniff"

# ---- valid credentials (successes) ----
http GET "$BASE/v1/models" -H "Authorization: Bearer $API_KEY"
assert_status 200 "GET /v1/models with Authorization: Bearer <apiKey>"
assert_json "$HTTP_BODY" 'j["object"]' list "/v1/models object is list"
assert_json "$HTTP_BODY" 'isinstance(j["data"], list) and all(m.get("object") == "model" and isinstance(m.get("id"), str) for m in j["data"])' \
  true "/v1/models data is a list of {id, object: model}"
assert_json "$HTTP_BODY" '"openclaw/main" in [m["id"] for m in j["data"]]' true "/v1/models lists openclaw/main"

http GET "$BASE/v1/models" -H "X-API-Key: $API_KEY"
assert_status 200 "GET /v1/models with X-API-Key: <apiKey>"
assert_json "$HTTP_BODY" 'j["object"]' list "/v1/models (X-API-Key) object is list"

http GET "$BASE/v1/models" -H "Authorization: Bearer $BEARER"
assert_status 200 "GET /v1/models with Authorization: Bearer <bearerToken>"

http GET "$BASE/v1/models/openclaw/main" -H "Authorization: Bearer $API_KEY"
assert_status 200 "GET /v1/models/openclaw/main"
assert_json "$HTTP_BODY" 'j["id"]' openclaw/main "/v1/models/openclaw/main id"
assert_json "$HTTP_BODY" 'j["object"]' model "/v1/models/openclaw/main object is model"

http GET "$BASE/v1/models/openclaw/no-such-agent" -H "Authorization: Bearer $API_KEY"
assert_status 404 "GET /v1/models/<unknown id>"
assert_openai_error "404 unknown model" invalid_request_error

http GET "$BASE/v1/models/openclaw/main" "${OTHER[@]}"
assert_status 401 "GET /v1/models/openclaw/main without credentials"

# ---- failures from 127.0.0.1 and the lockout ----
# maxAttempts 3: three wrong attempts are answered 401 (they are failures,
# not yet a lockout); the attempt after them is refused with 429.
for i in 1 2 3; do
  http GET "$BASE/v1/models" -H "Authorization: Bearer $WRONG"
  assert_status 401 "wrong key, failed attempt $i of 3 from 127.0.0.1"
  if ((i == 1)); then
    assert_openai_error "401 with a wrong key" unauthorized
  fi
done
http GET "$BASE/v1/models" -H "Authorization: Bearer $WRONG"
assert_status 429 "attempt after 3 failures from 127.0.0.1 is rate limited"
retry=$(header retry-after)
assert_match "$retry" '^[0-9]+$' "429 has a numeric Retry-After header"
((retry >= 1 && retry <= 2)) || fail "Retry-After within the 2 s lockout
  expected: 1..2
  actual:   $retry"
pass "Retry-After ($retry) is within 1..2 s for lockoutMs 2000"
assert_openai_error "429" rate_limited

http GET "$BASE/v1/models" -H "Authorization: Bearer $API_KEY"
assert_status 429 "the correct key is also refused while 127.0.0.1 is locked out"
http GET "$BASE/v1/models" -H "X-API-Key: $API_KEY"
assert_status 429 "X-API-Key with the correct key is refused while locked out"

http GET "$BASE/v1/models" -H "Authorization: Bearer $API_KEY" "${OTHER[@]}"
assert_status 200 "another address (127.0.0.2) is not locked out"

# The lockout ends after lockoutMs (2 s): poll with the correct key.
models_ok() {
  [[ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
    -H "Authorization: Bearer $API_KEY" "$BASE/v1/models")" == 200 ]]
}
wait_until 6000 models_ok || fail "the lockout did not end within 6 s (lockoutMs 2000)"
pass "after the lockout the correct key is accepted again"
http GET "$BASE/v1/models" -H "Authorization: Bearer $BEARER"
assert_status 200 "bearerToken accepted after the lockout"

# /health stays public throughout.
http GET "$BASE/health"
assert_status 200 "/health needs no credentials"

# ---- secrets never in the log ----
[[ -s "$LOG" ]] || fail "$LOG is empty or missing"
assert_file_not_contains "$LOG" "$API_KEY" "the API key never appears in gateway.log"
assert_file_not_contains "$LOG" "$BEARER" "the bearer token never appears in gateway.log"
assert_file_not_contains "$LOG" "$WRONG" "a presented (wrong) credential never appears in gateway.log"

finish
