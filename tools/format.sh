#!/usr/bin/env bash
# clang-format over every C++ file in the repository (.clang-format: Google style, 100 columns).
#
#   tools/format.sh           # rewrite the files in place
#   tools/format.sh --check   # change nothing; list the files that differ and exit 1 if any
#
# The test command (tools/test.sh) runs the check as its first stage.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format.sh: clang-format is missing (tools/install.sh installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [[ "${1:-}" == "--check" ]]; then
  bad=()
  for file in "${files[@]}"; do
    clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
  done
  if [[ ${#bad[@]} -gt 0 ]]; then
    echo "format.sh: ${#bad[@]} of ${#files[@]} files are not clang-formatted (run tools/format.sh):"
    printf '  %s\n' "${bad[@]}"
    exit 1
  fi
  echo "format.sh: all ${#files[@]} files clang-formatted"
  exit 0
fi
clang-format -i "${files[@]}"
