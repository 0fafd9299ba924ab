#!/usr/bin/env bash
# Sets up and runs every test: installs the Debian packages, checks that every C++ file is
# clang-formatted (tools/format.sh --check, one case), runs the whole Bazel test suite normally
# and under AddressSanitizer + UBSan, fuzzes every libFuzzer target for CHANNELSTREAM_FUZZ_SECONDS (default 30) each (tools/fuzz.sh; each target counts as one case),
# then prints one closing line `N passed, N failed`. CHANNELSTREAM_TEST_CONFIGS picks the stages
# (default "format default asan fuzz"; e.g. "default" alone skips the format check, the sanitizer
# build and the fuzzing).
set -uo pipefail
cd "$(dirname "$0")/.."

./tools/install.sh || { echo "0 passed, 1 failed"; exit 1; }

CONFIGS=("format" "default" "asan" "fuzz")
if [[ -n "${CHANNELSTREAM_TEST_CONFIGS:-}" ]]; then read -r -a CONFIGS <<< "$CHANNELSTREAM_TEST_CONFIGS"; fi

summary_args=()
status=0
for config in "${CONFIGS[@]}"; do
  if [[ "$config" == "format" ]]; then
    echo "=== tools/format.sh --check: every C++ file clang-formatted (.clang-format) ==="
    if ./tools/format.sh --check; then verdict=PASSED; else verdict=FAILED; status=1; fi
    printf '//tools:format_check\t%s\tclang-format --dry-run over git ls-files\n' "$verdict" > /tmp/channelstream-format-results.tsv
    python3 tools/summarize_tests.py --label format --fuzz-results /tmp/channelstream-format-results.tsv \
      > /tmp/channelstream-summary-format.json || status=1
    summary_args+=("/tmp/channelstream-summary-format.json")
    continue
  fi
  if [[ "$config" == "fuzz" ]]; then
    echo "=== tools/fuzz.sh: every fuzz target, ${CHANNELSTREAM_FUZZ_SECONDS:-30} s each (--config=fuzz) ==="
    rm -f /tmp/channelstream-fuzz-results.tsv
    ./tools/fuzz.sh -r /tmp/channelstream-fuzz-results.tsv 2>&1 | tee /tmp/channelstream-test-fuzz.log
    [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
    python3 tools/summarize_tests.py --label fuzz --fuzz-results /tmp/channelstream-fuzz-results.tsv \
      > /tmp/channelstream-summary-fuzz.json || status=1
    summary_args+=("/tmp/channelstream-summary-fuzz.json")
    continue
  fi
  flags=()
  [[ "$config" != "default" ]] && flags+=("--config=$config")
  echo "=== bazel test //... (${config}) ==="
  bazel test --keep_going "${flags[@]}" //... 2>&1 | tee "/tmp/channelstream-test-${config}.log" \
    | grep -vE '^\s*$|linux-sandbox'
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  # bazel-testlogs points at the configuration just run; read its results before the next run.
  python3 tools/summarize_tests.py --label "$config" --testlogs "$(bazel info "${flags[@]}" bazel-testlogs 2>/dev/null)" \
    --bazel-log "/tmp/channelstream-test-${config}.log" > "/tmp/channelstream-summary-${config}.json" || status=1
  summary_args+=("/tmp/channelstream-summary-${config}.json")
done

python3 tools/summarize_tests.py --combine "${summary_args[@]}" || status=1
exit $status
