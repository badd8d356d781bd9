#!/usr/bin/env bash
# check-scripts.sh SOURCE_DIR: run shellcheck on every shell script of the project's
# entry points: .ci/run, everything under scripts/ that is a shell script
# (a *.sh file or a file whose first line is a sh/bash shebang), and the
# scripts under tests/scripts and tests/docker. Also checks that every
# shebang script directly under scripts/ has its run bit.
# The list is made at run time, so a new script is checked without
# re-running cmake.
set -euo pipefail

root=${1:?usage: check-scripts.sh SOURCE_DIR}
cd "$root"

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "check-scripts: shellcheck is not installed (apt-get install shellcheck; scripts/test installs it)" >&2
  exit 1
fi

is_shell() {
  local f=$1 first=
  case "$f" in
    *.sh | *.bash) return 0 ;;
  esac
  IFS= read -r first <"$f" || true
  [[ "$first" =~ ^#!.*(/|[[:space:]])(ba|da|k)?sh([[:space:]]|$) ]]
}

files=()
[[ -f .ci/run ]] && files+=(.ci/run)
for dir in scripts tests/scripts tests/docker; do
  [[ -d "$dir" ]] || continue
  while IFS= read -r -d '' f; do
    is_shell "$f" && files+=("$f")
  done < <(find "$dir" -type f ! -name '*~' -print0 | sort -z)
done

if ((${#files[@]} == 0)); then
  echo "check-scripts: no scripts found under $root" >&2
  exit 1
fi

rc=0
for f in scripts/* .ci/run; do
  [[ -f "$f" ]] || continue
  first=
  IFS= read -r first <"$f" || true
  if [[ "$first" == '#!'* && ! -x "$f" ]]; then
    echo "check-scripts: $f has a shebang but no run bit (chmod +x $f)" >&2
    rc=1
  fi
done

echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#files[@]} scripts:"
printf '  %s\n' "${files[@]}"
if ! shellcheck -x -S style "${files[@]}"; then
  rc=1
fi
if ((rc == 0)); then
  echo "check-scripts: ${#files[@]} passed, 0 failed"
fi
exit "$rc"
