#!/usr/bin/env bash
# health.sh - health, readiness and metrics endpoints of a daemonised
# gateway (SPEC §6, §9 "Metrics").
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
API_KEY="it-health-key-5f1c2a9e7b"
CFG="$TEST_TMP/gateway.yaml"
cat >"$CFG" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
auth:
  apiKey: "$API_KEY"
monitoring:
  metricsPort: $MPORT
EOF
BASE="http://127.0.0.1:$PORT"
MBASE="http://127.0.0.1:$MPORT"

start_daemon --config "$CFG"
pass "gateway start --daemon (pid $DAEMON_PID)"
assert_contains "$RUN_OUT" "http://127.0.0.1:$PORT" "daemon start prints the URL it listens on"

# ---- /health ----
http GET "$BASE/health"
assert_status 200 "GET /health"
assert_match "$(header content-type)" '^application/json' "GET /health content-type is JSON"
assert_json "$HTTP_BODY" 'sorted(j.keys())' '["status", "uptime", "version"]' "/health has exactly status, uptime, version"
assert_json "$HTTP_BODY" 'j["status"]' ok "/health status is ok"
assert_json "$HTTP_BODY" 'type(j["uptime"]).__name__ == "int" and j["uptime"] >= 0' true "/health uptime is a non-negative integer"
assert_json "$HTTP_BODY" 'j["version"]' 0.1.0 "/health version"
assert_eq nosniff "$(header x-content-type-options)" "security header x-content-type-options: nosniff"

http HEAD "$BASE/health"
assert_status 200 "HEAD /health"
# curl -I cannot tell a stray body from the head: read the raw bytes.
raw_http "$PORT" 'HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
assert_match "$RAW_HEAD" '^HTTP/1\.1 200' "HEAD /health (raw) answers 200"
assert_eq 0 "$RAW_BODY_LEN" "HEAD /health sends no body bytes"

http POST "$BASE/health" --data '{}'
assert_status 405 "POST /health"
allow=$(header allow)
assert_contains "$allow" GET "405 on POST /health has an Allow header listing GET"
assert_contains "$allow" HEAD "405 on POST /health has an Allow header listing HEAD"
assert_json "$HTTP_BODY" 'j["ok"]' false "405 body is the non-/v1 error shape ({ok:false, error})"

# ---- liveness / readiness ----
http GET "$BASE/healthz"
assert_status 200 "GET /healthz"
http HEAD "$BASE/healthz"
assert_status 200 "HEAD /healthz"
http GET "$BASE/readyz"
assert_status 200 "GET /readyz once --daemon returned (ready)"
http HEAD "$BASE/readyz"
assert_status 200 "HEAD /readyz"

# ---- /health/detailed (public on loopback) ----
http GET "$BASE/health/detailed"
assert_status 200 "GET /health/detailed from loopback without credentials"
assert_json "$HTTP_BODY" 'j["status"]' ok "/health/detailed status ok"
assert_json "$HTTP_BODY" 'j["storage"]["status"] if isinstance(j["storage"], dict) else j["storage"]' ok \
  "/health/detailed storage is ok"
assert_json "$HTTP_BODY" 'all(k in j for k in ("channels", "storage", "providers"))' true \
  "/health/detailed has channels, storage and providers"

# ---- unknown path ----
http GET "$BASE/does-not-exist"
assert_status 404 "GET unknown path"
assert_json "$HTTP_BODY" 'j["ok"] is False and isinstance(j["error"], dict)' true "404 body is a JSON error"
assert_eq nosniff "$(header x-content-type-options)" "404 carries x-content-type-options: nosniff"

# ---- /metrics ----
# Exercise an authenticated route once (with the key in both header forms)
# so the key had every chance to leak into labels.
http GET "$BASE/v1/models" -H "Authorization: Bearer $API_KEY"
assert_status 200 "GET /v1/models with the key (for the metrics check)"
http GET "$BASE/v1/models" -H "X-API-Key: $API_KEY"
http GET "$BASE/v1/models" -H "Authorization: Bearer wrong-$API_KEY"
assert_status 401 "GET /v1/models with a wrong key (for the metrics check)"
http GET "$BASE/v1/models/$API_KEY" -H "X-API-Key: $API_KEY"
http GET "$BASE/health?session=agent:main:openai-user:secret-user-42"

http GET "$MBASE/metrics"
assert_status 200 "GET /metrics on monitoring.metricsPort"
METRICS="$TEST_TMP/metrics.txt"
printf '%s\n' "$HTTP_BODY" >"$METRICS"
assert_match "$(header content-type)" '^text/plain' "/metrics content-type is text/plain"

if command -v promtool >/dev/null 2>&1; then
  run promtool check metrics <"$METRICS"
  assert_rc 0 "promtool check metrics"
else
  echo "skip: promtool is not installed; 'promtool check metrics' not run"
fi

for want in 'openclaw_build_info' 'openclaw_http_requests_total{route="/health"' \
  'openclaw_http_request_duration_seconds_bucket' 'openclaw_plugins_loaded' \
  'process_resident_memory_bytes' 'process_start_time_seconds' 'process_open_fds'; do
  assert_contains "$HTTP_BODY" "$want" "/metrics contains $want"
done
assert_not_contains "$HTTP_BODY" "$API_KEY" "/metrics never contains the API key"
assert_not_contains "$HTTP_BODY" "secret-user-42" "/metrics never contains a session/user id"
assert_not_contains "$HTTP_BODY" "agent:main" "/metrics never contains a session key"
# Route labels are templates: the model id in the path is not a label.
assert_not_contains "$HTTP_BODY" 'route="/v1/models/openclaw' "/metrics route label is the template, not the path"
assert_match "$HTTP_BODY" 'openclaw_http_requests_total\{route="/health",method="GET",code="200"\} [1-9]' \
  "/metrics counted GET /health 200"

finish
