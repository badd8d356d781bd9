# shellcheck shell=bash disable=SC2034 # globals set here (RUN_*, HTTP_*, RAW_*) are read by the sourcing scripts
# lib.sh - shared helpers for the integration tests (sourced, not run).
#
# Every test gets a fresh temporary directory with its own state directory
# (OPENCLAW_STATE_DIR) and HOME, so nothing ever touches ~/.openclaw. The
# EXIT trap stops every gateway and helper process the test started, then
# removes the directory.
#
# Conventions: the first failed assertion prints what was expected and what
# was seen, then "N passed, 1 failed", and exits 1. `finish` prints
# "N passed, 0 failed".

set -euo pipefail

: "${OPENCLAW_TEST_BINARY_DIR:?OPENCLAW_TEST_BINARY_DIR must name the build directory}"
OC_BIN="$OPENCLAW_TEST_BINARY_DIR/bin/openclaw"
# OC_LIB_NO_GATEWAY=1: the test drives a helper tool only (e.g. the LLM
# upstream mock's tests), not the gateway and its plugins.
if [[ -z "${OC_LIB_NO_GATEWAY:-}" && ! -x "$OC_BIN" ]]; then
  echo "FAIL: $OC_BIN is missing (build the openclaw, auth-apikey and storage-sqlite targets)" >&2
  exit 1
fi
for _plugin in auth-apikey storage-sqlite; do
  if [[ -z "${OC_LIB_NO_GATEWAY:-}" && ! -f "$OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so" ]]; then
    echo "FAIL: $OPENCLAW_TEST_BINARY_DIR/plugins/$_plugin.so is missing (build the $_plugin target)" >&2
    exit 1
  fi
done
unset _plugin
for _tool in curl python3; do
  if ! command -v "$_tool" >/dev/null 2>&1; then
    echo "FAIL: $_tool is required by the integration tests" >&2
    exit 1
  fi
done
unset _tool

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/openclaw-it-$TEST_NAME.XXXXXX")
PASSED=0

# Isolation from the caller's environment: no variable of the gateway leaks
# in, and HOME points into the temporary directory.
unset OPENCLAW_CONFIG_PATH OPENCLAW_PORT OPENCLAW_GATEWAY_PORT OPENCLAW_HOST \
  OPENCLAW_API_KEY OPENCLAW_BEARER_TOKEN OPENCLAW_PASSWORD OPENCLAW_LOG_LEVEL \
  OPENCLAW_STORAGE_TYPE
export HOME="$TEST_TMP/home"
export OPENCLAW_STATE_DIR="$TEST_TMP/state"
mkdir -p "$HOME" "$OPENCLAW_STATE_DIR"

STATE_DIRS=("$OPENCLAW_STATE_DIR") # every state dir a gateway may run from
BG_PIDS=()                         # background processes started by the test
GW_PIDS=()                         # gateways started with --daemon
CLEANUP_HOOKS=()                   # functions run at exit, after the processes stopped
USED_PORTS=" "

# ---- reporting ----

_summary_failed() {
  echo "$PASSED passed, 1 failed"
}

fail() {
  echo "FAIL: $*" >&2
  _summary_failed
  exit 1
}

pass() {
  PASSED=$((PASSED + 1))
  echo "ok $PASSED - $*"
}

finish() {
  echo "$PASSED passed, 0 failed"
}

# ---- cleanup ----

# pid_alive PID: 0 while the process exists (and is not a zombie).
pid_alive() {
  local pid=$1 st
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ "$st" != "Z" && -n "$st" ]]
}

# wait_pid_gone PID [ATTEMPTS]: polls (20 ms apart) until PID is gone.
wait_pid_gone() {
  local pid=$1 n=${2:-500} i
  for ((i = 0; i < n; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.02
  done
  return 1
}

# _stop_pid PID [COMM]: SIGTERM, bounded wait, SIGKILL. With COMM, only when
# the process is still that program (a pid may have been reused).
_stop_pid() {
  local pid=$1 comm=${2:-}
  pid_alive "$pid" || return 0
  if [[ -n "$comm" && "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$comm" ]]; then
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_pid_gone "$pid" 750; then
    echo "cleanup: pid $pid ignored SIGTERM for 15 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 250 || true
  fi
}

_cleanup() {
  local rc=$? dir pid
  trap - EXIT INT TERM
  set +e
  for dir in "${STATE_DIRS[@]}"; do
    if [[ -f "$dir/gateway.pid" ]]; then
      pid=$(tr -dc '0-9' <"$dir/gateway.pid")
      [[ -n "$pid" ]] && _stop_pid "$pid" openclaw
    fi
  done
  for pid in "${GW_PIDS[@]}"; do
    _stop_pid "$pid" openclaw
  done
  for pid in "${BG_PIDS[@]}"; do
    _stop_pid "$pid"
  done
  local hook
  for hook in "${CLEANUP_HOOKS[@]}"; do
    "$hook"
  done
  if ((rc != 0)); then
    for dir in "${STATE_DIRS[@]}"; do
      if [[ -s "$dir/gateway.log" ]]; then
        echo "---- last lines of $dir/gateway.log ----" >&2
        tail -n 20 "$dir/gateway.log" >&2
      fi
    done
  fi
  if [[ -n "${KEEP_TMP:-}" ]]; then
    echo "kept $TEST_TMP" >&2
  else
    rm -rf "$TEST_TMP"
  fi
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# track_pid PID: stop PID at exit.
track_pid() {
  BG_PIDS+=("$1")
}

# new_state_dir NAME: a fresh state directory, exported as OPENCLAW_STATE_DIR.
new_state_dir() {
  export OPENCLAW_STATE_DIR="$TEST_TMP/$1"
  mkdir -p "$OPENCLAW_STATE_DIR"
  STATE_DIRS+=("$OPENCLAW_STATE_DIR")
}

# ---- ports ----

# free_port: prints a TCP port that is free on 127.0.0.1 now, never the same
# twice in one test. (Another process may still take it before we bind; the
# ports come from the kernel's ephemeral range, so that is unlikely.)
free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    if [[ "$USED_PORTS" != *" $p "* ]]; then
      USED_PORTS+="$p "
      echo "$p"
      return 0
    fi
  done
  fail "free_port: could not find an unused port"
}

# ---- running commands ----

# run CMD...: runs CMD without aborting the test; sets RUN_RC, RUN_OUT
# (stdout) and RUN_ERR (stderr).
run() {
  local out="$TEST_TMP/.run.out" err="$TEST_TMP/.run.err"
  RUN_RC=0
  "$@" >"$out" 2>"$err" || RUN_RC=$?
  RUN_OUT=$(cat "$out")
  RUN_ERR=$(cat "$err")
}

# run_timed CMD...: like run, also sets RUN_MS (wall-clock milliseconds).
run_timed() {
  local t0 t1
  t0=$(date +%s%N)
  run "$@"
  t1=$(date +%s%N)
  RUN_MS=$(((t1 - t0) / 1000000))
}

# oc ARGS...: runs the gateway binary through `run`.
oc() {
  run "$OC_BIN" "$@"
}

# start_daemon ARGS...: `openclaw gateway start --daemon ARGS...`; asserts
# exit 0 and sets DAEMON_PID from "gateway started (pid N): ...".
start_daemon() {
  oc gateway start --daemon "$@"
  if ((RUN_RC != 0)); then
    fail "gateway start --daemon $* exited $RUN_RC (expected 0)
stdout: $RUN_OUT
stderr: $RUN_ERR"
  fi
  DAEMON_PID=$(sed -n 's/^gateway started (pid \([0-9]*\)): .*/\1/p' <<<"$RUN_OUT")
  [[ -n "$DAEMON_PID" ]] || fail "gateway start --daemon: no 'gateway started (pid N): URL' line in:
$RUN_OUT"
  GW_PIDS+=("$DAEMON_PID")
}

# ---- HTTP ----

# http METHOD URL [CURL ARGS...]: one request; sets HTTP_CODE, HTTP_BODY and
# HTTP_HEADERS (the response head, header names lower-cased).
http() {
  local method=$1 url=$2
  shift 2
  local body="$TEST_TMP/.http.body" head="$TEST_TMP/.http.head" m=(-X "$method")
  [[ "$method" == HEAD ]] && m=(-I)
  : >"$body"
  : >"$head"
  HTTP_CODE=$(curl -sS --max-time 10 "${m[@]}" -o "$body" -D "$head" -w '%{http_code}' \
    "$@" "$url" 2>"$TEST_TMP/.http.err") || HTTP_CODE="curl-error: $(cat "$TEST_TMP/.http.err")"
  HTTP_BODY=$(cat "$body")
  HTTP_HEADERS=$(tr -d '\r' <"$head" | sed -E 's/^([^:]+):/\L\1:/')
}

# raw_http PORT REQUEST: sends REQUEST (printf-style escapes such as \r\n are
# expanded) to 127.0.0.1:PORT as-is, reads until the server closes (5 s
# timeout) and sets RAW_HEAD (status line and headers, CR removed) and
# RAW_BODY_LEN (bytes after the blank line).
raw_http() {
  local out
  out=$(python3 -c 'import socket, sys
req = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(req)
data = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
except socket.timeout:
    pass
head, _, body = data.partition(b"\r\n\r\n")
sys.stdout.write("%d\n" % len(body))
sys.stdout.write(head.decode("latin-1").replace("\r", ""))' "$1" "$2") || fail "raw_http: cannot talk to 127.0.0.1:$1"
  RAW_BODY_LEN=${out%%$'\n'*}
  RAW_HEAD=${out#*$'\n'}
}

# header NAME: the value of response header NAME (lower-case name) of the
# last `http` call, or empty.
header() {
  local name=$1
  sed -n "s/^$name: *//p" <<<"$HTTP_HEADERS" | head -n 1
}

# wait_http URL [CODE] [ATTEMPTS]: polls URL (50 ms apart, at most ATTEMPTS
# times, default 200) until it answers CODE (default 200).
wait_http() {
  local url=$1 want=${2:-200} n=${3:-200} i code
  for ((i = 0; i < n; i++)); do
    code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$url" 2>/dev/null || true)
    [[ "$code" == "$want" ]] && return 0
    sleep 0.05
  done
  echo "wait_http: $url did not answer $want after $n attempts (last: ${code:-none})" >&2
  return 1
}

# wait_until DEADLINE_MS CMD...: polls CMD (50 ms apart) until it succeeds or
# DEADLINE_MS milliseconds have passed.
wait_until() {
  local deadline=$(($(date +%s%N) / 1000000 + $1))
  shift
  while true; do
    "$@" && return 0
    (($(date +%s%N) / 1000000 >= deadline)) && return 1
    sleep 0.05
  done
}

# ---- JSON ----

# json_get JSON EXPR: evaluates the Python expression EXPR with `j` bound to
# the parsed JSON; prints the result (JSON-encoded unless a string). Exits 1
# when the text is not JSON or the expression fails.
json_get() {
  python3 -c 'import json, sys
j = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"j": j})
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1" "$2"
}

# assert_json JSON EXPR EXPECTED DESC: json_get JSON EXPR == EXPECTED.
assert_json() {
  local got
  got=$(json_get "$1" "$2" 2>&1) || fail "$4: cannot evaluate $2 on the body: $got
body: $1"
  [[ "$got" == "$3" ]] || fail "$4: $2
  expected: $3
  actual:   $got
  body: $1"
  pass "$4"
}

# ---- assertions ----

# _short TEXT: TEXT, cut to 3000 characters for failure messages.
_short() {
  if ((${#1} > 3000)); then
    printf '%s... [%d characters in all]' "${1:0:3000}" "${#1}"
  else
    printf '%s' "$1"
  fi
}

assert_eq() { # EXPECTED ACTUAL DESC
  [[ "$2" == "$1" ]] || fail "$3
  expected: $1
  actual:   $2"
  pass "$3"
}

assert_ne() { # UNEXPECTED ACTUAL DESC
  [[ "$2" != "$1" ]] || fail "$3
  expected anything but: $1
  actual:                $2"
  pass "$3"
}

assert_contains() { # HAYSTACK NEEDLE DESC
  [[ "$1" == *"$2"* ]] || fail "$3
  expected to contain: $2
  actual:              $(_short "$1")"
  pass "$3"
}

assert_not_contains() { # HAYSTACK NEEDLE DESC
  [[ "$1" != *"$2"* ]] || fail "$3
  expected NOT to contain: $2
  actual:                  $(_short "$1")"
  pass "$3"
}

assert_match() { # TEXT ERE DESC
  [[ "$1" =~ $2 ]] || fail "$3
  expected to match: $2
  actual:            $(_short "$1")"
  pass "$3"
}

# assert_rc EXPECTED DESC: checks RUN_RC of the last `run`.
assert_rc() {
  [[ "$RUN_RC" == "$1" ]] || fail "$2: exit code
  expected: $1
  actual:   $RUN_RC
  stdout: $RUN_OUT
  stderr: $RUN_ERR"
  pass "$2"
}

# assert_status EXPECTED DESC: checks HTTP_CODE of the last `http`.
assert_status() {
  [[ "$HTTP_CODE" == "$1" ]] || fail "$2: HTTP status
  expected: $1
  actual:   $HTTP_CODE
  headers: $HTTP_HEADERS
  body: $HTTP_BODY"
  pass "$2"
}

# assert_file_not_contains FILE NEEDLE DESC
assert_file_not_contains() {
  [[ -f "$1" ]] || fail "$3: $1 does not exist"
  if grep -qF -- "$2" "$1"; then
    fail "$3: $1 contains '$2':
$(grep -nF -- "$2" "$1" | head -n 5)"
  fi
  pass "$3"
}
