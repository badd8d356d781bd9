#!/usr/bin/env bash
# llm_failover.sh - fail-over and cooldown of the proxy path (issue 4, item
# 4): a provider/model request tries its target, then
# agents.defaults.model.fallbacks, in the same request: on a closed port, a
# 500, a 429, an upstream stalled before its first token; never on a 400
# (the upstream's error and status come back). A provider that failed is in
# cooldown: skipped (its upstream sees nothing) until the cooldown ends, then
# probed back by one request. /health/detailed, `openclaw models status` and
# the metrics show it. When the last candidate is rate-limited, the client
# gets the 429 with Retry-After.
#
# The 30 s first cooldown step is shortened to 1.5 s through the test-only
# OPENCLAW_TEST_COOLDOWN_SCALE (read by the gateway at start), so a probe
# comes soon; the cooldown checked while it runs is a 60 s one (the
# upstream's Retry-After: it is not scaled), so a slow machine cannot see it
# end before the checks are done.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=llm_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/llm_lib.sh"

export OPENCLAW_TEST_COOLDOWN_SCALE=0.05

start_upstream good --chunks 3 --chunk-interval-ms 20 # the fallback
GOOD_URL=$UP_URL
start_upstream flaky                                   # probed back, steered at run time
FLAKY_URL=$UP_URL
start_upstream cool                                    # cooling for long, steered at run time
COOL_URL=$UP_URL
start_upstream bad                                     # per-provider failures, by header
BAD_URL=$UP_URL
CLOSED_PORT=$(free_port)                               # nothing listens there

# bad_provider NAME HEADERS: an openai provider on the "bad" upstream whose
# requests carry HEADERS (x-mock-* knobs).
bad_provider() {
  printf '  - name: %s\n    type: openai\n    baseUrl: %s/v1\n    model: m\n    headers: %s\n' \
    "$1" "$BAD_URL" "$2"
}

llm_gateway failover "providers:
  - {name: good, type: openai, baseUrl: \"$GOOD_URL/v1\", model: m}
  - {name: flaky, type: openai, baseUrl: \"$FLAKY_URL/v1\", model: m}
  - {name: cool, type: openai, baseUrl: \"$COOL_URL/v1\", model: m}
  - {name: closed, type: openai, baseUrl: \"http://127.0.0.1:$CLOSED_PORT/v1\", model: m}
$(bad_provider e500 '{x-mock-status: "500"}')
$(bad_provider e429 '{x-mock-status: "429", x-mock-retry-after: "2"}')
$(bad_provider e400 '{x-mock-status: "400"}')
$(bad_provider e401 '{x-mock-status: "401"}')
$(bad_provider stall '{x-mock-stall: "true"}')
    timeoutMs: 700
$(bad_provider stallfirst '{x-mock-stall: "true"}')
agents:
  defaults:
    model: {primary: flaky/m, fallbacks: [good/m]}" "  limits:
    firstTokenTimeoutMs: 1000"

# chat_body MODEL STREAM: a chat request for MODEL.
chat_body() {
  printf '{"model":"%s","stream":%s,"messages":[{"role":"user","content":"hi"}]}' "$1" "$2"
}

# ask MODEL [STREAM]: one chat request for MODEL.
ask() {
  api /v1/chat/completions "$(chat_body "$1" "${2:-false}")"
}

good_calls() {
  up_stat good 'j["by_endpoint"]["chat_completions"]'
}

# fails_over MODEL DESC: the request for MODEL is answered by good.
fails_over() {
  local before
  before=$(good_calls)
  ask "$1"
  assert_status 200 "$2: answered (200)"
  assert_eq $((before + 1)) "$(good_calls)" "$2: the fallback (good) answered in the same request"
  assert_eq 1 "$(llm_metric "openclaw_provider_fallbacks_total{from=\"${1%%/*}\",to=\"good\"}")" \
    "$2: fallback ${1%%/*} -> good counted"
}

fails_over closed/m "connect refused"
fails_over e500/m "HTTP 500"
fails_over e429/m "HTTP 429"
fails_over e401/m "HTTP 401 (auth)"
t0=$(date +%s%N)
fails_over stall/m "stalled upstream (timeoutMs 700)"
elapsed=$((($(date +%s%N) - t0) / 1000000))
((elapsed >= 600 && elapsed < 10000)) ||
  fail "stall: answered after ${elapsed} ms (expected about 700)"
pass "stall: the provider's timeout (700 ms) ended the attempt"

# Streaming: stalled before the first token; firstTokenTimeoutMs 1000 moves
# on before any byte reached the client.
before=$(good_calls)
bad_before=$(up_stat bad 'j["requests_total"]')
stream_client /v1/chat/completions "$(chat_body stallfirst/m true)"
assert_json "$STREAM" 'j["status"]' 200 "first token: the stream is answered"
stream_events
assert_ev 'j[-1]["data"]' "[DONE]" "first token: the stream ends with [DONE]"
assert_ev text "mock reply $((before + 1))" "first token: the fallback's stream, whole"
assert_eq $((bad_before + 1)) "$(up_stat bad 'j["requests_total"]')" \
  "first token: the primary was asked first"
wait_until 5000 up_stat_is bad 'j["stalled_now"]' 0 ||
  fail "first token: the gateway never closed the stalled upstream call"
pass "first token: the stalled upstream call was closed (canceled)"
timeouts='openclaw_provider_calls_total{provider="stallfirst",model="m",outcome="timeout"}'
assert_eq 1 "$(llm_metric "$timeouts")" "first token: counted as a timeout"

# ---- no fail-over on a 400 ----
before=$(good_calls)
ask e400/m
assert_status 400 "400: the upstream's status comes back"
assert_json "$HTTP_BODY" 'j["error"]["code"]' upstream_request_error \
  "400: code upstream_request_error"
assert_contains "$HTTP_BODY" "mock: forced status 400" "400: the upstream's own message"
assert_eq "$before" "$(good_calls)" "400: no fail-over (good not asked)"
assert_eq "" "$(llm_metric 'openclaw_provider_cooldowns_total{provider="e400"}' | grep -v '^0$')" \
  "400: no cooldown"

# ---- cooldown: skipped while it runs ----
up_config cool '{"status":503,"retry_after_s":60}'
cool_calls() {
  up_stat cool 'j["requests_total"]'
}
ask cool/m
assert_status 200 "cooldown: cool's 503 fails over"
assert_eq 1 "$(cool_calls)" "cooldown: cool was asked once"
# /health/detailed is a snapshot the gateway refreshes every second.
wait_until 3000 health_state_is cool cooling ||
  fail "cooldown: /health/detailed never showed cool cooling"
pass "cooldown: /health/detailed shows cool cooling"
H=$(curl -sS "$BASE/health/detailed")
assert_json "$H" '[j["providers"]["cool"]["remainingMs"] > 50000,
  j["providers"]["cool"]["consecutiveFailures"]]' '[true, 1]' \
  "cooldown: the upstream's Retry-After (60 s) sets it; one failure"
assert_eq 1 "$(llm_metric 'openclaw_provider_cooldown{provider="cool"}')" \
  "cooldown: gauge 1 (cooling)"
assert_eq 1 "$(llm_metric 'openclaw_provider_cooldowns_total{provider="cool"}')" \
  "cooldown: counted"
oc models status --config "$GW_CFG" --json
assert_rc 0 "models status --json"
assert_json "$RUN_OUT" '[p["state"] for p in j["providers"] if p["name"] == "cool"]' \
  '["cooling"]' \
  "models status: cool cooling (read from the running gateway)"
assert_json "$RUN_OUT" '[a["chain"] for a in j["agents"] if a["id"] == "main"]' \
  '[["flaky/m", "good/m"]]' \
  "models status: the agent's chain"
oc models status --config "$GW_CFG"
assert_rc 0 "models status"
assert_match "$RUN_OUT" 'cool +openai +cooling +[0-9.]+s +1 +m' \
  "models status: the table shows cool cooling"
up_config cool '{"status":0}' # it recovers; the cooldown still runs
ask cool/m
assert_status 200 "cooldown: answered while cool cools"
assert_eq 1 "$(cool_calls)" "cooldown: a cooling provider is skipped (its upstream saw no request)"

# ---- cooldown: over, one request probes it back ----
up_config flaky '{"status":500}'
flaky_before=$(up_stat flaky 'j["requests_total"]')
flaky_calls() {
  up_stat flaky 'j["requests_total"]'
}
ask flaky/m
assert_status 200 "probe: flaky's 500 fails over"
assert_eq $((flaky_before + 1)) "$(flaky_calls)" "probe: flaky was asked once"
up_config flaky '{"status":0}'
wait_until 15000 health_state_is flaky probing || fail "probe: flaky never left cooling"
pass "probe: the cooldown is over after its step (1.5 s with the test scale); half-open"
ask flaky/m
assert_status 200 "probe: answered"
assert_eq $((flaky_before + 2)) "$(flaky_calls)" "probe: one request probed flaky"
wait_until 3000 health_state_is flaky ok || fail "probe: flaky stayed $(health_state flaky)"
pass "probe: its success closed the cooldown"
assert_eq 0 "$(llm_metric 'openclaw_provider_cooldown{provider="flaky"}')" "probe: gauge back to 0"

# ---- the last candidate rate-limited: 429 with Retry-After ----
up_config good '{"status":429,"retry_after_s":3}'
ask e429/m
assert_status 429 "429: every candidate rate-limited"
assert_eq 3 "$(header retry-after)" "429: the last upstream's Retry-After"
assert_json "$HTTP_BODY" 'j["error"]["type"] + " " + j["error"]["code"]' \
  "rate_limit_error rate_limit_exceeded" "429: the OpenAI error shape"
assert_contains "$HTTP_BODY" "good/m" "429: the message names the last target"
up_config good '{"status":0}'

# ---- every candidate failing otherwise: 502 naming the last reason ----
up_config good '{"status":503}'
ask e500/m
assert_status 502 "502: every candidate failed"
assert_json "$HTTP_BODY" 'j["error"]["code"]' upstream_error "502: upstream_error"
assert_contains "$HTTP_BODY" "HTTP 503" "502: the message names the last reason"
assert_not_contains "$HTTP_BODY" "$API_KEY" "502: no secret in the message"
up_config good '{"status":0}'

llm_stop
oc models status --config "$GW_CFG" --json
assert_rc 0 "models status without a gateway"
assert_json "$RUN_OUT" 'j["running"]' false "models status: not running"
assert_json "$RUN_OUT" '[p["state"] for p in j["providers"]][:1]' '["not running"]' \
  "models status: no cooldown state without a gateway"
finish
