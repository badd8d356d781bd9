#!/usr/bin/env bash
# llm_load_test.sh - oc-llm-load against oc-mock-upstream (rates, drops,
# errors by kind and status, timeouts, streams, held streams) and against
# llm_load_fixture.py (malformed answers, coalesced SSE), plus usage errors.
# Counts are checked exactly where the schedule makes them exact (requests of
# a fixed-rate run, the mock's own request counter, chunks per stream);
# nothing waits on time except the loads themselves.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../integration/lib.sh"

BIN=$OPENCLAW_TEST_BINARY_DIR/bin
LOAD=$BIN/oc-llm-load
MOCK=$BIN/oc-mock-upstream
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for f in "$LOAD" "$MOCK"; do
  [[ -x "$f" ]] || fail "$f is missing (build the oc-llm-load and oc-mock-upstream targets)"
done

# llm ARGS...: runs oc-llm-load (through `run`, at most 60 s: a hang fails
# with exit 124); its stderr goes to ours when it holds a sanitizer report,
# so the sanitizer check of the test sees it.
llm() {
  run timeout 60 "$LOAD" "$@"
  if grep -qE 'Sanitizer|runtime error' <<<"$RUN_ERR"; then
    printf '%s\n' "$RUN_ERR" >&2
  fi
}
# jf EXPR: evaluates EXPR on the last --json report ($TEST_TMP/r.json).
jf() { json_get "$(cat "$TEST_TMP/r.json")" "$1"; }
# start_server NAME CMD...: a server that prints "listening on ...:PORT"
# (or "listening on PORT"); sets PORT_<NAME>.
start_server() {
  local name=$1 log=$TEST_TMP/$1.log
  shift
  "$@" >"$log" 2>&1 &
  track_pid $!
  listening() { grep -q 'listening on' "$log"; }
  wait_until 10000 listening || fail "$name did not start: $(cat "$log")"
  local port
  port=$(sed -n 's/.*listening on \(.*:\)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$log" | head -1)
  printf -v "PORT_$name" '%s' "$port"
}
# mock_requests: chat completion calls the mock has received.
mock_requests() {
  curl -fsS "http://127.0.0.1:$PORT_mock/mock/stats" | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["by_endpoint"]["chat_completions"])'
}

PORT_mock=
PORT_fix=
start_server mock "$MOCK" --port 0 --quiet
start_server fix python3 "$HERE/llm_load_fixture.py"
URL=http://127.0.0.1:$PORT_mock/v1/chat/completions
FIX=http://127.0.0.1:$PORT_fix

# ---- usage errors: exit 2, the message names the flag -----------------------------------
check_usage() { # DESC NEEDLE ARGS...
  local desc=$1 needle=$2
  shift 2
  llm "$@"
  assert_rc 2 "usage: $desc exits 2"
  assert_contains "$RUN_ERR" "$needle" "usage: $desc names $needle"
}
check_usage "no URL" "URL" --rate 10 --duration 1
check_usage "a rate that is not a number" "--rate" --rate 1k --duration 1 "$URL"
check_usage "a zero duration" "--duration" --rate 10 --duration 0 "$URL"
check_usage "no duration" "--duration" --rate 10 "$URL"
check_usage "two modes" "mode" --rate 10 --concurrency 2 --duration 1 "$URL"
check_usage "--hold without --streams" "--hold" --hold --rate 1 --duration 1 "$URL"
check_usage "--connections in a closed loop" "--connections" --concurrency 2 --connections 4 \
  --duration 1 "$URL"
check_usage "an unknown flag" "--bogus" --bogus --rate 1 --duration 1 "$URL"
check_usage "a flag without its value" "--timeout-ms" --rate 1 --duration 1 "$URL" --timeout-ms
check_usage "a header without a colon" "--header" -H NoColon --rate 1 --duration 1 "$URL"
check_usage "a header it owns" "Content-Length" -H 'Content-Length: 5' --rate 1 --duration 1 "$URL"
check_usage "an https URL" "https" --rate 1 --duration 1 "https://127.0.0.1:1/"
printf '{"model": "m1", ' >"$TEST_TMP/trunc.json"
check_usage "a body file that is not JSON" "--body-file" --body-file "$TEST_TMP/trunc.json" \
  --rate 1 --duration 1 "$URL"
printf '[1, 2]' >"$TEST_TMP/array.json"
check_usage "a body file that is not an object" "not an object" --body-file "$TEST_TMP/array.json" \
  --rate 1 --duration 1 "$URL"
check_usage "a missing body file" "--body-file" --body-file "$TEST_TMP/none.json" --rate 1 \
  --duration 1 "$URL"

# ---- fixed rate: exact counts --------------------------------------------------------------
before=$(mock_requests)
llm --rate 1000 --duration 1 --warmup 0.5 --quiet --json "$TEST_TMP/r.json" "$URL"
assert_rc 0 "rate: every request answered: exit 0"
assert_eq 1000 "$(jf 'j["requests"]')" "rate: 1000/s for 1 s schedules 1000 measured requests"
assert_eq 1000 "$(jf 'j["ok"]')" "rate: all of them ok"
assert_eq 500 "$(jf 'j["warmup"]["requests"]')" "rate: the 0.5 s warm-up is counted apart"
assert_eq 1000 "$(jf 'j["latency_us"]["count"]')" "rate: one latency per ok request"
assert_eq 130 "$(jf 'j["body_bytes"]')" "rate: the built-in body is 130 bytes"
assert_eq 1500 "$(($(mock_requests) - before))" "rate: the mock received exactly what was sent"
assert_eq true "$(jf 'j["latency_us"]["p50"] <= j["latency_us"]["p99"] <= \
  j["latency_us"]["max"]')" "rate: percentiles are ordered"
assert_contains "$RUN_OUT" "from the intended send time" \
  "rate: the text report says where latency starts"

# Extra headers reach the upstream: the mock fails every call with 503 on request.
llm --rate 50 --duration 0.2 --quiet -H 'x-mock-status: 503' --json "$TEST_TMP/r.json" "$URL"
assert_rc 1 "status: failures exit 1"
assert_eq 10 "$(jf 'j["errors_by_status"]["503"]')" "status: each 503 is counted by status"
assert_eq 10 "$(jf 'j["errors_by_kind"]["http"]')" "status: and as kind http"
assert_eq 0 "$(jf 'j["ok"]')" "status: nothing ok"

# ---- the client drops what it cannot send --------------------------------------------------
# 300 ms answers on 2 connections, at most 5 requests sent or waiting: of 200
# requests due in 1 s, at most ~15 can be taken; the rest are dropped.
llm --rate 200 --duration 1 --connections 2 --max-inflight 5 --quiet \
  -H 'x-mock-latency-ms: 300' --json "$TEST_TMP/r.json" "$URL"
assert_rc 1 "drops: a run with drops exits 1"
assert_eq 200 "$(jf 'j["sent"] + j["dropped"]')" "drops: every request is either sent or dropped"
assert_eq true "$(jf 'j["dropped"] >= 150')" "drops: most requests are dropped by the client"
assert_eq 0 "$(jf 'j["errors"]')" "drops: the sent ones succeed"
assert_eq 5 "$(jf 'j["peak_inflight"]')" "drops: never more than --max-inflight in flight"
assert_eq 2 "$(jf 'j["peak_sent"]')" "drops: at most one request sent per connection"
assert_eq true "$(jf 'j["latency_us"]["max"] >= 600000')" \
  "drops: a request that waited for a connection counts its wait (> 2 answers)"

# ---- timeouts and dead targets -------------------------------------------------------------
llm --rate 20 --duration 0.5 --timeout-ms 300 --quiet -H 'x-mock-stall: 1' \
  --json "$TEST_TMP/r.json" "$URL"
assert_rc 1 "timeout: exit 1"
assert_eq 10 "$(jf 'j["errors_by_kind"]["timeout"]')" "timeout: every stalled request times out"
DEAD=http://127.0.0.1:$(free_port)/
llm --concurrency 2 --duration 0.3 --quiet --json "$TEST_TMP/r.json" "$DEAD"
assert_rc 1 "dead target: exit 1"
assert_eq true "$(jf 'j["connect_failures"] > 0')" "dead target: failed connects are counted"
assert_eq "connection refused" "$(jf 'j["last_connect_error"]')" "dead target: the reason is given"
assert_contains "$RUN_ERR" "connections are up" "dead target: said before the run"

# ---- closed loop ---------------------------------------------------------------------------
llm --concurrency 4 --duration 0.5 --quiet --json "$TEST_TMP/r.json" "$URL"
assert_rc 0 "closed loop: exit 0"
assert_eq closed "$(jf 'j["mode"]')" "closed loop: mode"
assert_eq true "$(jf 'j["ok"] > 0 and j["ok"] == j["sent"] and j["peak_inflight"] <= 4')" \
  "closed loop: ok == sent, at most 4 in flight"

# ---- streams ---------------------------------------------------------------------------------
llm --stream --rate 50 --duration 1 --quiet -H 'x-mock-chunks: 8' \
  -H 'x-mock-chunk-interval-ms: 30' --json "$TEST_TMP/r.json" "$URL"
assert_rc 0 "stream: exit 0"
assert_eq 50 "$(jf 'j["ok"]')" "stream: 50 streams ok"
assert_eq '[8, 8]' "$(jf '[j["stream"]["chunks_per_stream"][k] for k in ("min", "max")]')" \
  "stream: every stream delivered its 8 content chunks"
assert_eq 400 "$(jf 'j["stream"]["content_events"]')" "stream: 400 content events"
assert_eq 50 "$(jf 'j["stream"]["ttft_us"]["count"]')" "stream: one TTFT per stream"
assert_eq 350 "$(jf 'j["stream"]["chunk_gap_us"]["count"]')" "stream: 7 gaps per stream"
assert_eq true "$(jf 'j["stream"]["chunk_gap_us"]["p50"] >= 25000')" \
  "stream: gaps follow the mock's 30 ms interval"
assert_eq 0 "$(jf 'j["stream"]["coalesced_reads"]')" \
  "stream: chunks 30 ms apart never share a read"
assert_eq true "$(jf 'j["streaming"]')" "stream: the report says it streamed"
run python3 -c 'import json, sys
def pairs(kv):
    keys = [k for k, _ in kv]
    if len(keys) != len(set(keys)):
        sys.exit("duplicate keys: %s" % keys)
    return dict(kv)
json.load(open(sys.argv[1]), object_pairs_hook=pairs)' "$TEST_TMP/r.json"
assert_rc 0 "stream: the JSON report has no duplicate keys"

llm --streams 40 --hold --quiet -H 'x-mock-chunks: 5' -H 'x-mock-chunk-interval-ms: 100' \
  --json "$TEST_TMP/r.json" "$URL"
assert_rc 0 "hold: exit 0"
assert_eq hold "$(jf 'j["mode"]')" "hold: mode"
assert_eq '[40, 40]' "$(jf '[j["stream"]["peak_open"], j["stream"]["peak_streaming"]]')" \
  "hold: all 40 streams were open, and streaming, together"
assert_eq true "$(jf 'j["stream"]["all_streaming_s"] is not None and j["ok"] == 40')" \
  "hold: the moment they were all open is reported, then all ended well"

# ---- answers that are wrong ----------------------------------------------------------------
check_kind() { # PATH KIND DESC [ARGS...]
  local path=$1 kind=$2 desc=$3
  shift 3
  llm --rate 20 --duration 0.1 --quiet --timeout-ms 5000 --json "$TEST_TMP/r.json" "$@" "$FIX$path"
  assert_rc 1 "$desc: exit 1"
  assert_eq 2 "$(jf "j[\"errors_by_kind\"][\"$kind\"]")" "$desc: counted as $kind"
}
check_kind /garbage protocol "a head that is not HTTP"
check_kind /badchunk protocol "chunk framing that is not hex"
check_kind /nochoices bad_body "200 without a chat completion"
check_kind /cut conn "a body cut by the close"
check_kind /nodone bad_stream "a stream without [DONE]" --stream
check_kind /errorevent bad_stream "a stream with an error event" --stream

llm --streams 1 --hold --quiet --json "$TEST_TMP/r.json" "$FIX/coalesce"
assert_rc 0 "coalesce: the stream itself is fine"
assert_eq 4 "$(jf 'j["stream"]["content_events"]')" "coalesce: 4 content events"
assert_eq true "$(jf 'j["stream"]["coalesced_reads"] >= 1')" \
  "coalesce: two events in one write show as a coalesced read"

# A server that closes every keep-alive connection as soon as it is idle,
# under 1000 requests/s on 8 connections: a connection closed while idle
# must leave the idle list (a request given to it while it reconnected was
# lost, and the run never ended). A request sent just before the close was
# read fails with "conn" (the usual keep-alive race); every one is accounted.
llm --rate 1000 --duration 1 --connections 8 --quiet --json "$TEST_TMP/r.json" "$FIX/closeidle"
assert_ne 124 "$RUN_RC" "idle close: the run ends by itself"
assert_eq '[1000, 0, false]' "$(jf '[j["ok"] + j["errors"], j["unfinished"], j["interrupted"]]')" \
  "idle close: every request answered or failed, none left in flight"
assert_eq true "$(jf 'j["ok"] >= 500')" "idle close: most are ok"

# An answer that beats the client's own write of its request (a 4 MiB body,
# answered as soon as the head is in): the next request must not reuse the
# connection's pending write (that corrupted libuv's write queue: a hang).
python3 -c 'import json; print(json.dumps({"model": "m1", "messages": [
  {"role": "user", "content": "x" * (4 << 20)}]}))' >"$TEST_TMP/big.json"
llm --concurrency 1 --duration 0.5 --quiet --body-file "$TEST_TMP/big.json" \
  --json "$TEST_TMP/r.json" "$FIX/early"
assert_rc 0 "early answer: no hang, every request ok"
assert_eq true "$(jf 'j["ok"] > 1 and j["errors"] == 0')" \
  "early answer: the loop went on with the next requests"

# ---- a body file -------------------------------------------------------------------------------
printf '{"model":"x","messages":[{"role":"user","content":"hello"}],"stream":true,"n":1}' \
  >"$TEST_TMP/body.json"
llm --rate 20 --duration 0.2 --quiet --model m1 --body-file "$TEST_TMP/body.json" \
  --json "$TEST_TMP/r.json" "$URL"
assert_rc 0 "body file: the mock accepts it"
want='{"model":"m1","messages":[{"role":"user","content":"hello"}],"stream":false,"n":1}'
assert_eq "${#want}" "$(jf 'j["body_bytes"]')" \
  "body file: sent as given, with model from --model and stream false (not streaming)"
finish
