#!/usr/bin/env bash
# config_errors.sh - configuration errors (SPEC §4 exit 78 with
# file:line:column, §5), value precedence (flag > env > file), and the
# refusal to bind beyond loopback without auth (SPEC §6).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
MPORT=$(free_port)
unset OPENCLAW_TEST_UNSET_VAR

# A foreground start that wrongly accepts a bad file would run forever:
# bound it. 124 (timeout) then fails the exit-code assertion.
START_TIMEOUT=20

# check_bad NAME LINE:COL NEEDLE...: the file $TEST_TMP/NAME.yaml must be
# refused by `gateway validate` and by `gateway start`, both with exit 78,
# "error: FILE:LINE:COL:" on stderr, and every NEEDLE on stderr.
check_bad() {
  local name=$1 pos=$2 f="$TEST_TMP/$1.yaml" needle
  shift 2
  local what
  for what in validate start; do
    if [[ "$what" == validate ]]; then
      oc gateway validate --config "$f"
    else
      run timeout "$START_TIMEOUT" "$OC_BIN" gateway start --config "$f"
    fi
    assert_rc 78 "$name: gateway $what exits 78"
    if [[ -n "$pos" ]]; then
      assert_contains "$RUN_ERR" "error: $f:$pos: " "$name: gateway $what names $f:$pos"
    fi
    for needle in "$@"; do
      assert_contains "$RUN_ERR" "$needle" "$name: gateway $what says '$needle'"
    done
  done
}

# check_bad_pos_any NAME "L:C L:C" NEEDLE...: like check_bad, for errors
# about a whole section where pointing at its key or at its value are both
# exact positions.
check_bad_pos_any() {
  local name=$1 positions=$2 f="$TEST_TMP/$1.yaml" what p hit needle
  shift 2
  for what in validate start; do
    if [[ "$what" == validate ]]; then
      oc gateway validate --config "$f"
    else
      run timeout "$START_TIMEOUT" "$OC_BIN" gateway start --config "$f"
    fi
    assert_rc 78 "$name: gateway $what exits 78"
    hit=
    for p in $positions; do
      [[ "$RUN_ERR" == *"error: $f:$p: "* ]] && hit=$p
    done
    [[ -n "$hit" ]] || fail "$name: gateway $what names the position of the section
  expected one of: $(for p in $positions; do printf '%s ' "error: $f:$p:"; done)
  actual stderr:   $RUN_ERR"
    pass "$name: gateway $what names $f:$hit"
    for needle in "$@"; do
      assert_contains "$RUN_ERR" "$needle" "$name: gateway $what says '$needle'"
    done
  done
}

# status_port: sets STATUS_PORT to the port `gateway status --json` reports.
status_port() {
  oc gateway status --json
  assert_rc 0 "gateway status --json while running"
  STATUS_PORT=$(json_get "$RUN_OUT" 'j["port"]') || fail "status --json is not JSON: $RUN_OUT"
}

# ---------------------------------------------------------------------------
# Precedence: command-line flag > environment variable > file.
# ---------------------------------------------------------------------------
PORT_A=$PORT
PORT_B=$(free_port)
PORT_C=$(free_port)
cat >"$TEST_TMP/prec.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT_A
monitoring:
  metricsPort: $MPORT
EOF

oc gateway validate --config "$TEST_TMP/prec.yaml"
assert_rc 0 "a good file validates (exit 0)"

OPENCLAW_PORT=$PORT_B start_daemon --config "$TEST_TMP/prec.yaml"
pass "start with server.port $PORT_A in the file and OPENCLAW_PORT=$PORT_B"
status_port
assert_eq "$PORT_B" "$STATUS_PORT" "OPENCLAW_PORT overrides server.port (status --json port)"
http GET "http://127.0.0.1:$PORT_B/health"
assert_status 200 "/health answers on the OPENCLAW_PORT port"
http GET "http://127.0.0.1:$PORT_A/health"
assert_ne 200 "$HTTP_CODE" "nothing answers on the file's port"
oc gateway stop
assert_rc 0 "gateway stop"

OPENCLAW_PORT=$PORT_B start_daemon --config "$TEST_TMP/prec.yaml" --port "$PORT_C"
pass "start with OPENCLAW_PORT=$PORT_B and --port $PORT_C"
status_port
assert_eq "$PORT_C" "$STATUS_PORT" "--port overrides OPENCLAW_PORT (status --json port)"
http GET "http://127.0.0.1:$PORT_C/health"
assert_status 200 "/health answers on the --port port"
http GET "http://127.0.0.1:$PORT_B/health"
assert_ne 200 "$HTTP_CODE" "nothing answers on the OPENCLAW_PORT port"
oc gateway stop
assert_rc 0 "gateway stop"

# ---------------------------------------------------------------------------
# Beyond loopback without auth: refused (exit 78); with OPENCLAW_API_KEY: ok.
# ---------------------------------------------------------------------------
cat >"$TEST_TMP/open.yaml" <<EOF
server:
  host: 0.0.0.0
  port: $PORT
monitoring:
  metricsPort: $MPORT
EOF
REFUSAL="refusing to bind gateway to 0.0.0.0 without auth"
oc gateway validate --config "$TEST_TMP/open.yaml"
assert_rc 78 "validate: server.host 0.0.0.0 without auth exits 78"
assert_contains "$RUN_ERR" "$REFUSAL" "validate: says '$REFUSAL'"
run timeout "$START_TIMEOUT" "$OC_BIN" gateway start --config "$TEST_TMP/open.yaml"
assert_rc 78 "start: server.host 0.0.0.0 without auth exits 78"
assert_contains "$RUN_ERR" "$REFUSAL" "start: says '$REFUSAL'"
oc gateway start --daemon --config "$TEST_TMP/open.yaml"
assert_rc 78 "start --daemon: server.host 0.0.0.0 without auth exits 78"
assert_contains "$RUN_ERR" "$REFUSAL" "start --daemon: says '$REFUSAL'"
http GET "http://127.0.0.1:$PORT/health"
assert_ne 200 "$HTTP_CODE" "nothing listens after the refusal"

OPENCLAW_API_KEY="it-env-key-31c8e0f2a7" start_daemon --config "$TEST_TMP/open.yaml"
pass "server.host 0.0.0.0 starts with OPENCLAW_API_KEY set"
http GET "http://127.0.0.1:$PORT/health"
assert_status 200 "/health on the 0.0.0.0 gateway"
http GET "http://127.0.0.1:$PORT/v1/models" -H "Authorization: Bearer it-env-key-31c8e0f2a7"
assert_status 200 "the OPENCLAW_API_KEY key is accepted"
oc gateway stop
assert_rc 0 "gateway stop (0.0.0.0 gateway)"

# ---------------------------------------------------------------------------
# Bad files: exit 78 and the exact file:line:column (counted by hand below).
# ---------------------------------------------------------------------------

# Line 6, column 1: the key `bogus`.
cat >"$TEST_TMP/unknown_top.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
monitoring:
  metricsPort: $MPORT
bogus: 1
EOF
check_bad unknown_top 6:1 "unknown key 'bogus'"

# Line 3, column 3: the key `prot`.
cat >"$TEST_TMP/unknown_server.yaml" <<EOF
server:
  host: 127.0.0.1
  prot: $PORT
monitoring:
  metricsPort: $MPORT
EOF
check_bad unknown_server 3:3 "unknown key 'prot'" "did you mean 'port'"

# Line 3, column 9: the value `abc`.
cat >"$TEST_TMP/wrong_type.yaml" <<EOF
server:
  host: 127.0.0.1
  port: abc
monitoring:
  metricsPort: $MPORT
EOF
check_bad wrong_type 3:9 "server.port" "abc"

# Line 3, column 9: the value `70000`.
cat >"$TEST_TMP/out_of_range.yaml" <<EOF
server:
  host: 127.0.0.1
  port: 70000
monitoring:
  metricsPort: $MPORT
EOF
check_bad out_of_range 3:9 "server.port" "70000"

# Line 5, column 11: the (plain) scalar `${OPENCLAW_TEST_UNSET_VAR}`.
# shellcheck disable=SC2016 # the ${...} is for the gateway, not the shell
printf '%s\n' 'server:' '  host: 127.0.0.1' "  port: $PORT" 'auth:' \
  '  apiKey: ${OPENCLAW_TEST_UNSET_VAR}' 'monitoring:' "  metricsPort: $MPORT" \
  >"$TEST_TMP/unset_var.yaml"
check_bad unset_var 5:11 "auth.apiKey" "OPENCLAW_TEST_UNSET_VAR"

# YAML syntax: a tab indenting line 3 (line 3, column 1).
printf 'server:\n  host: 127.0.0.1\n\tport: %s\n' "$PORT" >"$TEST_TMP/yaml_tab.yaml"
check_bad yaml_tab 3:1 "YAML"

# YAML syntax: a second `:` in a plain value (line 3, column 10).
cat >"$TEST_TMP/yaml_colon.yaml" <<EOF
server:
  host: 127.0.0.1
  port: 1: 2
monitoring:
  metricsPort: $MPORT
EOF
check_bad yaml_colon 3:10 "YAML"

# A plugin's own section: line 5, column 3, the key `apiKeyy`.
cat >"$TEST_TMP/unknown_auth.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
auth:
  apiKeyy: "it-typo-key-0123456789"
monitoring:
  metricsPort: $MPORT
EOF
check_bad unknown_auth 5:3 "unknown key 'apiKeyy'" "did you mean 'apiKey'"

# channels.telegram without channel-telegram loaded: the section is line 7,
# its key at column 3, its value at column 13.
cat >"$TEST_TMP/channel_not_loaded.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
monitoring:
  metricsPort: $MPORT
channels:
  telegram: {botToken: x}
EOF
check_bad_pos_any channel_not_loaded "7:3 7:13" "channel-telegram" "plugins.load"

# Explicit --config naming a file that does not exist.
check_bad missing_file "" "$TEST_TMP/missing_file.yaml"

# plugins.load naming a plugin that does not exist: line 9, column 7, the
# list item `provider-nope`; the message says where it looked.
cat >"$TEST_TMP/missing_plugin.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
monitoring:
  metricsPort: $MPORT
plugins:
  load:
    - storage-sqlite
    - provider-nope
EOF
check_bad missing_plugin 9:7 "provider-nope" "not found" "looked" "provider-nope.so"

finish
