#!/usr/bin/env bash
# The SDK stands alone: install the gateway to a temporary prefix, build the
# example plugin from sdk/examples with find_package(OpenClawPlugin 1) and,
# separately, with pkg-config; run its unit test in the installed test host;
# then load it into the installed gateway and call it over HTTP.
set -euo pipefail
bin=${OPENCLAW_TEST_BINARY_DIR:?}
src=${OPENCLAW_TEST_SOURCE_DIR:?}
work=$(mktemp -d)
gw_pid=
cleanup() {
  if [[ -n $gw_pid ]]; then kill "$gw_pid" 2>/dev/null || true; wait "$gw_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; echo "$pass passed, 1 failed"; exit 1; }

prefix=$work/prefix
cmake --install "$bin" --prefix "$prefix" >/dev/null || fail "cmake --install"
for f in bin/openclaw include/openclaw/plugin.h include/openclaw/testing.h \
         lib/pkgconfig/openclaw-plugin.pc lib/cmake/OpenClawPlugin/OpenClawPluginConfig.cmake \
         lib/openclaw/plugins/storage-sqlite.so lib/openclaw/plugins/auth-apikey.so; do
  [[ -e $prefix/$f ]] || fail "installed tree lacks $f"
done
ok "install puts bin, plugins, headers, pkg-config and the CMake package under the prefix"

# A sanitizer build's test host needs the sanitizer runtime in the example's
# test program too, so the example is built with the same flags then.
san_flags=()
cflags="-O2 -Wall -Wextra"
if grep -q '^OPENCLAW_SANITIZE:BOOL=ON' "$bin/CMakeCache.txt"; then
  san="-fsanitize=address,undefined -fno-omit-frame-pointer"
  san_flags=("-DCMAKE_C_FLAGS=$san" "-DCMAKE_EXE_LINKER_FLAGS=$san" "-DCMAKE_MODULE_LINKER_FLAGS=$san")
  cflags="$cflags $san"
fi

# Only the example's own folder is copied: nothing from the gateway tree.
cp -r "$src/sdk/examples/auth-header" "$work/example"
cmake -S "$work/example" -B "$work/build-cmake" -DCMAKE_PREFIX_PATH="$prefix" "${san_flags[@]}" >/dev/null \
  || fail "configure with find_package(OpenClawPlugin 1)"
cmake --build "$work/build-cmake" >/dev/null || fail "build with find_package"
ok "example builds with find_package(OpenClawPlugin 1)"
ctest --test-dir "$work/build-cmake" --output-on-failure || fail "example unit test in the installed test host"
ok "example's unit test passes in the installed test host"

mkdir -p "$work/pc"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C "$work/example" OUT="$work/pc" CFLAGS="$cflags" \
  || fail "build with pkg-config"
[[ -f $work/pc/auth-header.so ]] || fail "pkg-config build produced no auth-header.so"
syms=$(nm -D --defined-only "$work/pc/auth-header.so" | awk '{print $3}')
[[ $syms == openclaw_plugin_entry ]] || fail "pkg-config build exports: $syms"
ok "example builds with pkg-config alone and exports one symbol"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/gateway.yaml" <<YAML
server:
  host: loopback
  port: $port
monitoring:
  metricsPort: $mport
plugins:
  load: [storage-sqlite, $work/build-cmake/auth-header.so]
auth:
  headerToken: example-secret-42
YAML
export OPENCLAW_STATE_DIR=$work/state
"$prefix/bin/openclaw" plugins list --json --config "$work/gateway.yaml" >"$work/list.json"
# The ABI the example was built for is the installed SDK's.
abi=$(sed -n 's/^#define OC_ABI_MAJOR \([0-9]*\).*/\1/p' "$prefix/include/openclaw/version.h").$(
  sed -n 's/^#define OC_ABI_MINOR \([0-9]*\).*/\1/p' "$prefix/include/openclaw/version.h")
python3 - "$work/list.json" "$abi" <<'PY' || fail "plugins list does not show auth-header"
import json, sys
items = {p["name"]: p for p in json.load(open(sys.argv[1]))}
p = items["auth-header"]
assert p["kind"] == "auth" and p["abi"] == sys.argv[2] and p["version"] == "1.0.0", p
PY
ok "plugins list shows the example with its kind, version and ABI"
"$prefix/bin/openclaw" gateway start --config "$work/gateway.yaml" --daemon >/dev/null \
  || fail "installed gateway did not start with the example"
gw_pid=$(cat "$work/state/gateway.pid")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/models")
[[ $code == 401 ]] || fail "no token: expected 401, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-API-Key: example-secret-42' "http://127.0.0.1:$port/v1/models")
[[ $code == 200 ]] || fail "with the token: expected 200, got $code"
ok "the installed gateway loads the example and it decides requests (401 without, 200 with)"
"$prefix/bin/openclaw" gateway stop >/dev/null
gw_pid=
echo "$pass passed, 0 failed"
