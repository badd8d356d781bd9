#!/usr/bin/env bash
# llm_sdk.sh - the official `openai` npm SDK (v6, tests/node) on Node
# against the gateway (issue 4): tests/node/openai_sdk.mjs drives
# non-streaming and streaming chat completions (proxied and agent models),
# models.list(), the Responses API and error cases (BadRequestError with
# the message, NotFoundError, AuthenticationError). This script starts the
# upstream mock and the gateway, then runs it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=llm_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/llm_lib.sh"

NODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../node" && pwd)"
command -v node >/dev/null 2>&1 || fail "node is required (Node 20)"
[[ -f "$NODE_DIR/node_modules/openai/package.json" ]] ||
  fail "tests/node/node_modules/openai is missing (run npm ci in tests/node)"

start_upstream up --chunks 3 --chunk-interval-ms 5 --echo
llm_gateway sdk "providers:
  - {name: up, type: openai, baseUrl: \"$UP_URL/v1\", model: gpt-sdk}
  - {name: mock, type: mock, reply: \"agent heard: {{last}}\", streamChunks: 2}
agents:
  defaults:
    model: {primary: mock/mock}"

run env OC_BASE_URL="$BASE/v1" OC_API_KEY="$API_KEY" OC_PROXY=up/gpt-sdk OC_AGENT=openclaw/main \
  node "$NODE_DIR/openai_sdk.mjs"
printf '%s\n' "$RUN_OUT"
[[ "$RUN_RC" == 0 ]] || fail "openai_sdk.mjs exited $RUN_RC
stderr: $RUN_ERR"
pass "the openai SDK checks passed"

llm_stop
finish
