#!/usr/bin/env bash
# dockerfile-lint.sh SOURCE_DIR: lint SOURCE_DIR/Dockerfile with npm
# dockerfilelint (pinned in tests/node/package.json); any finding fails.
set -euo pipefail

root=${1:?usage: dockerfile-lint.sh SOURCE_DIR}
dockerfile="$root/Dockerfile"
lint="$root/tests/node/node_modules/.bin/dockerfilelint"

if [[ ! -f "$dockerfile" ]]; then
  echo "dockerfile-lint: $dockerfile does not exist" >&2
  exit 1
fi
if [[ ! -x "$lint" ]]; then
  {
    echo "dockerfile-lint: dockerfilelint is not installed."
    echo "  run: (cd $root/tests/node && npm ci --no-audit --no-fund)"
    echo "  (scripts/test does this before running the tests)"
  } >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "dockerfile-lint: node is not installed (scripts/test installs nodejs when missing)" >&2
  exit 1
fi

# dockerfilelint exits with the number of findings, which wraps at 256: count
# them from its JSON report instead, then show the readable report on failure.
# (It also lints its argument as text when no such file exists: the file was
# checked above.)
json=$(cd "$root" && "$lint" --json Dockerfile) || true
count=$(printf '%s' "$json" | node -e '
  let s = "";
  process.stdin.on("data", (c) => (s += c)).on("end", () => {
    try {
      const r = JSON.parse(s);
      console.log(r.totalIssues);
    } catch (e) {
      console.log("unparsable");
    }
  });')
if [[ "$count" == 0 ]]; then
  echo "dockerfile-lint: $dockerfile: no findings ($("$lint" --version))"
  exit 0
fi
if [[ "$count" == unparsable ]]; then
  echo "dockerfile-lint: could not read dockerfilelint's report:" >&2
  printf '%s\n' "$json" >&2
  exit 1
fi
(cd "$root" && FORCE_COLOR=0 NO_COLOR=1 "$lint" Dockerfile) || true
echo "dockerfile-lint: $count finding(s) in $dockerfile" >&2
exit 1
