#!/usr/bin/env bash
# Sets up and runs every test: installs the Debian packages, runs the whole Bazel test suite
# normally and under AddressSanitizer + UBSan, then prints one closing line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

./tools/install.sh || { echo "0 passed, 1 failed"; exit 1; }

CONFIGS=("default" "asan")
if [[ -n "${CHANNELSTREAM_TEST_CONFIGS:-}" ]]; then read -r -a CONFIGS <<< "$CHANNELSTREAM_TEST_CONFIGS"; fi

summary_args=()
status=0
for config in "${CONFIGS[@]}"; do
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
