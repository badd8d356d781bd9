# shellcheck shell=bash disable=SC2034 # globals set here are read by the sourcing scripts
# llm_lib.sh - helpers for the LLM API integration tests (llm_proxy.sh,
# llm_failover.sh, llm_agent.sh, llm_sdk.sh); sourced after lib.sh.
#
# Upstreams are oc-mock-upstream processes (tests/support/mock_upstream),
# each on its own port, named so a test can count what reached which:
#
#   start_upstream NAME [mock flags]   -> UP_URL (its base URL), UP_PID
#   up_stat NAME EXPR                  a value of its GET /mock/stats
#   up_config NAME JSON                POST /mock/config (runtime knobs)
#   llm_gateway NAME YAML [SERVER]     writes the config (server, auth, plugins
#                                      and monitoring given; SERVER: more keys
#                                      of server, indented 2) and starts it
#   api PATH BODY [CURL ARGS...]       POST to the gateway (sets HTTP_*)
#   stream_client PATH BODY [-H ...]   a streamed POST timed per HTTP chunk
#                                      (mock_client.py stream): STREAM
#
# Every wait polls a condition with wait_until; nothing sleeps to wait.

MOCK_BIN="$OPENCLAW_TEST_BINARY_DIR/bin/oc-mock-upstream"
MOCK_CLIENT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../support/mock_upstream" && pwd)/mock_client.py"
[[ -x "$MOCK_BIN" ]] || fail "$MOCK_BIN is missing (build the oc-mock-upstream target)"
[[ -f "$MOCK_CLIENT" ]] || fail "$MOCK_CLIENT is missing"
for _plugin in provider-openai provider-mock; do
  if [[ ! -f "$OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so" ]]; then
    echo "FAIL: $OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so is missing" \
      "(build the $_plugin target)" >&2
    exit 1
  fi
done
unset _plugin

API_KEY="it-llm-key-5c1e9a7d30"
AUTH=(-H "Authorization: Bearer $API_KEY")

declare -A UPSTREAM_URLS=() # name -> base URL

# start_upstream NAME [FLAGS...]: an oc-mock-upstream on a free port; sets
# UP_URL and UP_PID, and remembers the URL under NAME (up_stat, up_config).
start_upstream() {
  local name=$1 out line i pid
  shift
  out="$TEST_TMP/up-$name.out"
  : >"$out"
  "$MOCK_BIN" --port 0 --quiet "$@" >"$out" 2>"$TEST_TMP/up-$name.err" &
  pid=$!
  track_pid "$pid"
  for ((i = 0; i < 500; i++)); do
    line=$(head -n 1 "$out")
    [[ -n "$line" ]] && break
    pid_alive "$pid" || fail "upstream $name exited at start: $(cat "$TEST_TMP/up-$name.err")"
    sleep 0.02
  done
  [[ "$line" =~ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
    fail "upstream $name: no 'listening on 127.0.0.1:PORT' line (got '$line')"
  UP_URL="http://127.0.0.1:${BASH_REMATCH[1]}"
  UP_PID=$pid
  UPSTREAM_URLS[$name]=$UP_URL
}

_up_url() {
  printf '%s' "${UPSTREAM_URLS[$1]:?no upstream named $1}"
}

# up_stat NAME EXPR: evaluates EXPR (Python, over j) on the upstream's stats.
up_stat() {
  json_get "$(curl -sS --max-time 5 "$(_up_url "$1")/mock/stats")" "$2"
}

# up_stat_is NAME EXPR VALUE: for wait_until.
up_stat_is() {
  [[ "$(up_stat "$1" "$2")" == "$3" ]]
}

# up_config NAME JSON: sets runtime knobs of the upstream.
up_config() {
  curl -sS --max-time 5 -X POST "$(_up_url "$1")/mock/config" -d "$2" >/dev/null ||
    fail "cannot configure upstream $1"
}

# llm_gateway NAME YAML [SERVER]: a gateway with YAML (providers, agents, ...)
# plus server (and SERVER, more of its keys), auth, plugins and monitoring;
# sets GW_PORT, GW_MPORT, BASE, MBASE, GW_CFG. Plugins: storage-sqlite,
# auth-apikey, provider-openai, provider-mock (or LLM_PLUGINS).
llm_gateway() {
  new_state_dir "$1"
  GW_PORT=$(free_port)
  GW_MPORT=$(free_port)
  GW_CFG="$TEST_TMP/$1.yaml"
  BASE="http://127.0.0.1:$GW_PORT"
  MBASE="http://127.0.0.1:$GW_MPORT"
  cat >"$GW_CFG" <<EOF_CFG
server:
  host: 127.0.0.1
  port: $GW_PORT
${3:-}
auth:
  apiKey: "$API_KEY"
plugins:
  path: ["$OPENCLAW_TEST_BINARY_DIR/plugins"]
  load: [${LLM_PLUGINS:-storage-sqlite, auth-apikey, provider-openai, provider-mock}]
monitoring:
  metricsPort: $GW_MPORT
$2
EOF_CFG
  start_daemon --config "$GW_CFG"
  pass "$1: gateway started (pid $DAEMON_PID)"
}

# llm_stop: stops the gateway of the current state directory; asserts a
# clean stop and, in sanitizer builds, no report in its log (the daemon's
# stderr goes there, so the test wrapper would not see it).
llm_stop() {
  oc gateway stop
  assert_rc 0 "gateway stop"
  if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' \
    "$OPENCLAW_STATE_DIR/gateway.log"; then
    fail "sanitizer report in $OPENCLAW_STATE_DIR/gateway.log:
$(grep -A30 -E 'ERROR: |runtime error:' "$OPENCLAW_STATE_DIR/gateway.log" | head -60)"
  fi
  pass "no sanitizer report in the gateway's log"
}

# api PATH BODY [CURL ARGS...]: an authorised POST to the gateway.
api() {
  local path=$1 body=$2
  shift 2
  http POST "$BASE$path" "${AUTH[@]}" -H 'Content-Type: application/json' "$@" --data "$body"
}

# stream_client PATH BODY [-H "Name: value"]...: a streamed POST; STREAM is
# {status, headers, body, chunks[], event_ms[], gaps_ms[]} (one entry per
# HTTP chunk the gateway wrote).
stream_client() {
  local path=$1 body=$2
  shift 2
  STREAM=$(python3 "$MOCK_CLIENT" stream "$GW_PORT" "$path" "$body" \
    -H "Authorization: Bearer $API_KEY" "$@") || fail "stream $path failed"
}

# sse_events TEXT: the SSE events of TEXT as a JSON array of {event, data}
# (data parsed when JSON; ": comment" lines skipped).
sse_events() {
  python3 -c 'import json, sys
evs = []
for block in sys.argv[1].split("\n\n"):
    ev = {"event": None, "data": None}
    for line in block.split("\n"):
        if line.startswith("event: "):
            ev["event"] = line[7:]
        elif line.startswith("data: "):
            raw = line[6:]
            try:
                ev["data"] = json.loads(raw)
            except ValueError:
                ev["data"] = raw
    if ev["data"] is not None:
        evs.append(ev)
print(json.dumps(evs))' "$1"
}

# stream_events: EVENTS = the SSE events of the last stream_client body.
stream_events() {
  EVENTS=$(sse_events "$(json_get "$STREAM" 'j["body"]')")
}

# ev_get EXPR: evaluates the Python expression EXPR over EVENTS (j), with
#   chunks    the chat.completion.chunk objects, in order
#   text      their content deltas joined
#   finish    the last finish_reason they carry
#   usage     the usage objects they carry
#   types     the named events (Responses), output_text.delta left out
#   deltas    the output_text.delta texts joined
ev_get() {
  python3 -c 'import json, sys
j = json.loads(sys.argv[1])
chunks = [e["data"] for e in j if isinstance(e["data"], dict) and "choices" in e["data"]]
text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
fins = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
finish = [f for f in fins if f][-1] if any(fins) else None
usage = [c["usage"] for c in chunks if c.get("usage")]
types = [e["event"] for e in j if e["event"] and e["event"] != "response.output_text.delta"]
deltas = "".join(e["data"]["delta"] for e in j if e["event"] == "response.output_text.delta")
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$EVENTS" "$1"
}

# assert_ev EXPR EXPECTED DESC
assert_ev() {
  local got
  got=$(ev_get "$1" 2>&1) || fail "$3: cannot evaluate $1: $got"
  [[ "$got" == "$2" ]] || fail "$3: $1
  expected: $2
  actual:   $got
  events: $EVENTS"
  pass "$3"
}

# The Responses API's streaming events, in OpenAI's order (deltas aside).
RESP_EVENTS='["response.created", "response.in_progress", "response.output_item.added", '\
'"response.content_part.added", "response.output_text.done", "response.content_part.done", '\
'"response.output_item.done", "response.completed"]'

# metric NAME{LABELS}: the value of one series on /metrics ("" when absent).
llm_metric() {
  curl -sS --max-time 5 "$MBASE/metrics" | awk -v k="$1" 'index($0, k " ") == 1 {print $2}'
}

# health_state PROVIDER: its cooldown state in /health/detailed.
health_state() {
  json_get "$(curl -sS --max-time 5 "$BASE/health/detailed")" "j['providers']['$1']['state']"
}

health_state_is() {
  [[ "$(health_state "$1")" == "$2" ]]
}
