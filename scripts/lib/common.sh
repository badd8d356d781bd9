# shellcheck shell=bash
# Helpers shared by scripts/run, scripts/test and the other entry points.
# Source it; it defines functions and variables only (no side effects).
#
#   OC_ROOT                 the repository root
#   OC_BUILD_PACKAGES       Debian packages needed to build (and compile the tests)
#   OC_TEST_PACKAGES        Debian packages the test suite needs at run time
#   OC_BENCH_PACKAGES       Debian packages scripts/bench needs
#   oc_log MSG...           "==> MSG" progress line (stdout)
#   oc_note MSG...          "    MSG" detail line (stdout)
#   oc_warn MSG...          "warning: MSG" (stderr)
#   oc_die MSG...           "error: MSG" (stderr), exit 1
#   oc_need_packages PKG... install the missing Debian packages (root) or say
#                           exactly what to install and exit 1 (not root)
#   oc_node_packages        prints "nodejs npm" when no node is on PATH
#   oc_build DIR [ARGS...]  configure DIR (only when needed) and build it
#   oc_now                  seconds since the epoch

if [[ -n "${OC_COMMON_SOURCED:-}" ]]; then
  return 0
fi
OC_COMMON_SOURCED=1

OC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# shellcheck disable=SC2034 # used by the scripts that source this file
OC_BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev libh2o-dev libwslay-dev libssl-dev libyaml-dev libjson-c-dev
  libcurl4-gnutls-dev libgnutls28-dev libpq-dev libcriterion-dev
  libsqlite3-dev libhiredis-dev
)
# shellcheck disable=SC2034 # used by the scripts that source this file
OC_TEST_PACKAGES=(
  postgresql redis-server prometheus curl valgrind shellcheck ca-certificates
)
# shellcheck disable=SC2034 # used by the scripts that source this file
OC_BENCH_PACKAGES=(
  nginx-light wrk gnuplot-nox
)

oc_log() { printf '==> %s\n' "$*"; }
oc_note() { printf '    %s\n' "$*"; }
oc_warn() { printf 'warning: %s\n' "$*" >&2; }
oc_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
oc_now() { date +%s; }

# oc_node_packages: Node.js is already on the development image (v20 from
# outside Debian); only fall back to Debian's nodejs/npm when node is absent.
oc_node_packages() {
  if ! command -v node >/dev/null 2>&1; then
    printf '%s\n' nodejs npm
  fi
}

# oc_missing_packages PKG...: prints the packages that are not installed.
oc_missing_packages() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    if [[ "$status" != ii* ]]; then
      printf '%s\n' "$p"
    fi
  done
}

OC_APT_UPDATED=${OC_APT_UPDATED:-}

# oc_need_packages PKG...: fast path (everything present) runs no apt-get.
oc_need_packages() {
  local missing=()
  if ! command -v dpkg-query >/dev/null 2>&1; then
    oc_warn "dpkg-query not found: not a Debian system, cannot check packages ($*)"
    return 0
  fi
  mapfile -t missing < <(oc_missing_packages "$@")
  if ((${#missing[@]} == 0)); then
    oc_note "packages: all ${#} present"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    {
      printf 'error: missing Debian packages: %s\n' "${missing[*]}"
      printf 'install them as root, then run this again:\n'
      printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}"
    } >&2
    exit 1
  fi
  oc_log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  if [[ -z "$OC_APT_UPDATED" ]]; then
    apt-get update -qq || return 1
    OC_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
    --no-install-recommends "${missing[@]}" || return 1
  mapfile -t missing < <(oc_missing_packages "$@")
  if ((${#missing[@]} > 0)); then
    printf 'error: still missing after apt-get install: %s\n' "${missing[*]}" >&2
    return 1
  fi
}

# oc_build DIR [CMAKE_ARGS...]: configure DIR when it has no cache or when the
# arguments differ from the last configure, then build with all cores.
# DIR is relative to the repository root unless absolute.
oc_build() {
  local dir=$1
  shift
  local abs=$dir
  [[ "$abs" == /* ]] || abs="$OC_ROOT/$dir"
  local stamp="$abs/.oc-configure-args"
  local want
  want=$(printf '%s\n' "$@")
  if [[ ! -f "$abs/CMakeCache.txt" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    oc_log "configuring ($dir/)${*:+ $*}"
    # (explicit returns: callers may run this where set -e is off)
    cmake -S "$OC_ROOT" -B "$abs" "$@" || return 1
    printf '%s\n' "$want" >"$stamp" || return 1
  fi
  oc_log "building ($dir/)"
  cmake --build "$abs" -j"$(nproc)" || return 1
}
