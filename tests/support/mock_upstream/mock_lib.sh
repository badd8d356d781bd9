# shellcheck shell=bash disable=SC2034 # sets globals (MOCK*, SSE_*) for the sourcing scripts
# mock_lib.sh - helpers for the oc-mock-upstream tests (sourced, not run).
# Builds on tests/integration/lib.sh (reporting, assertions, `http`, JSON,
# cleanup of the processes a test starts), without its gateway checks.

OC_LIB_NO_GATEWAY=1
# shellcheck source-path=SCRIPTDIR source=../../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../integration/lib.sh"

MOCK_BIN="$OPENCLAW_TEST_BINARY_DIR/bin/oc-mock-upstream"
MOCK_CLIENT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mock_client.py"
[[ -x "$MOCK_BIN" ]] || fail "$MOCK_BIN is missing (build the oc-mock-upstream target)"
MOCK_N=0

# start_mock ARGS...: starts the mock on a free port (unless ARGS name one)
# and waits for its "listening on" line. Sets MOCK_PID, MOCK_PORT, MOCK
# (base URL), MOCK_ERR (its stderr file).
# shellcheck disable=SC2120 # arguments are optional
start_mock() {
  MOCK_N=$((MOCK_N + 1))
  local out="$TEST_TMP/mock$MOCK_N.out" i line=
  MOCK_ERR="$TEST_TMP/mock$MOCK_N.err"
  : >"$out"
  "$MOCK_BIN" --port 0 "$@" >"$out" 2>"$MOCK_ERR" &
  MOCK_PID=$!
  track_pid "$MOCK_PID"
  for ((i = 0; i < 500; i++)); do
    line=$(head -n 1 "$out")
    [[ -n "$line" ]] && break
    pid_alive "$MOCK_PID" || fail "oc-mock-upstream $* exited at start: $(cat "$MOCK_ERR")"
    sleep 0.02
  done
  [[ "$line" =~ ^oc-mock-upstream\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
    fail "oc-mock-upstream $*: no 'listening on 127.0.0.1:PORT' line (got '$line')"
  MOCK_PORT=${BASH_REMATCH[1]}
  MOCK="http://127.0.0.1:$MOCK_PORT"
}

# check_sanitizer FILE: fails when FILE holds a sanitizer report.
check_sanitizer() {
  if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$1"; then
    cat "$1" >&2
    fail "sanitizer report in $1"
  fi
}

# stop_mock DESC: SIGTERM; asserts a clean exit 0 within 10 s and no
# sanitizer report.
stop_mock() {
  local rc=0
  kill -TERM "$MOCK_PID"
  wait_pid_gone "$MOCK_PID" 500 || fail "oc-mock-upstream ignored SIGTERM for 10 s"
  wait "$MOCK_PID" || rc=$?
  check_sanitizer "$MOCK_ERR"
  assert_eq 0 "$rc" "$1"
}

# stat EXPR: a value of GET /mock/stats (Python expression over j).
stat() {
  json_get "$(curl -sS --max-time 5 "$MOCK/mock/stats")" "$1"
}

# stat_is EXPR EXPECTED: for wait_until.
stat_is() {
  [[ "$(stat "$1")" == "$2" ]]
}

# wait_stat EXPR EXPECTED DESC: waits (10 s at most) until the stat has the value.
wait_stat() {
  wait_until 10000 stat_is "$1" "$2" || fail "$3: $1 never became $2 (last: $(stat "$1"))"
  pass "$3"
}

# chat BODY [CURL ARGS...]: POST /v1/chat/completions through `http`.
chat() {
  local body=$1
  shift
  http POST "$MOCK/v1/chat/completions" -H 'Content-Type: application/json' "$@" --data "$body"
}

# messages BODY [CURL ARGS...]: POST /v1/messages with Anthropic's headers.
messages() {
  local body=$1
  shift
  http POST "$MOCK/v1/messages" -H 'Content-Type: application/json' -H 'x-api-key: test-key' \
    -H 'anthropic-version: 2023-06-01' "$@" --data "$body"
}

# sse PATH BODY [CURL ARGS...]: a streamed POST. Sets SSE_CODE, SSE_HEADERS
# (lower-cased names), SSE_RAW (the file with the body) and SSE (the
# events as a JSON array of {event, data}; strict framing).
sse() {
  local path=$1 body=$2
  shift 2
  SSE_RAW="$TEST_TMP/sse.body"
  local head="$TEST_TMP/sse.head"
  SSE_CODE=$(curl -sS -N --max-time 30 -o "$SSE_RAW" -D "$head" -w '%{http_code}' \
    -H 'Content-Type: application/json' "$@" --data "$body" "$MOCK$path") ||
    fail "curl $path failed"
  SSE_HEADERS=$(tr -d '\r' <"$head" | sed -E 's/^([^:]+):/\L\1:/')
  SSE=$(python3 "$MOCK_CLIENT" sse "$SSE_RAW") || fail \
    "bad SSE framing from $path: $(cat "$SSE_RAW")"
}

# sse_header NAME: a header of the last `sse` call.
sse_header() {
  sed -n "s/^$1: *//p" <<<"$SSE_HEADERS" | head -n 1
}

# client ARGS...: mock_client.py; sets CLIENT (its JSON output).
client() {
  CLIENT=$(python3 "$MOCK_CLIENT" "$@") || fail "mock_client.py $1 failed"
}
