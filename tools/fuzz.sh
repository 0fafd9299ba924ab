#!/usr/bin/env bash
# Builds the libFuzzer targets (cc_fuzz_test, tests/fuzz) with --config=fuzz and fuzzes each for a
# bounded time, one after another. New inputs go to a temporary directory, never into the source
# tree; the seed corpus (tests/fuzz/corpus/<target>/) and the regression inputs
# (tests/fuzz/regressions/<target>/) are only read.
#
#   tools/fuzz.sh                          # every fuzz target, CHANNELSTREAM_FUZZ_SECONDS (30) each
#   tools/fuzz.sh -t 600 ws_frame_fuzz     # one target, ten minutes
#   tools/fuzz.sh http_request_fuzz -- -max_len=65536     # extra libFuzzer flags
#
# A finding fails the run and prints the reproducer's path; replay it with
# `bazel-bin/tests/fuzz/<target> <file>` (any configuration), and once the bug is fixed copy it into
# tests/fuzz/regressions/<target>/ so every `bazel test` checks it from then on.
#
# Options: -t SECONDS per target; -r RESULTS_FILE to also write one line per target
# (label<TAB>PASSED|FAILED<TAB>detail) for tools/summarize_tests.py --fuzz-results.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${CHANNELSTREAM_FUZZ_SECONDS:-30}"
results=""
targets=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) seconds="$2"; shift 2 ;;
    -r) results="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    //*) targets+=("$1"); shift ;;
    *) targets+=("//tests/fuzz:$1"); shift ;;
  esac
done
[[ -n "$results" ]] && : > "$results"

record() {  # label status detail
  [[ -n "$results" ]] && printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$results"
  return 0
}

if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(bazel query 'attr(tags, "\bfuzz_target\b", tests(//...))' 2>/dev/null)
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz.sh: no fuzz targets found (bazel query failed?)"
    record "//tests/fuzz" FAILED "no fuzz targets found"
    exit 1
  fi
fi

# Same output base as every other build: --config=fuzz has its own platform suffix, so its outputs
# sit beside the gcc ones and switching back and forth rebuilds neither (see .bazelrc).
start=$SECONDS
echo "fuzz.sh: bazel build --config=fuzz ${targets[*]}"
bazel build --config=fuzz "${targets[@]}" 2>&1 | grep -vE "^\s*$|linux-sandbox"
if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
  echo "fuzz.sh: the fuzz build failed"
  for target in "${targets[@]}"; do record "$target" FAILED "bazel build --config=fuzz failed"; done
  exit 1
fi
bin="$(bazel info --config=fuzz bazel-bin 2>/dev/null)"
echo "fuzz.sh: built in $((SECONDS - start)) s; fuzzing ${#targets[@]} targets for ${seconds} s each"

work="$(mktemp -d "${TMPDIR:-/tmp}/channelstream-fuzz.XXXXXX")"
symbolizer="$(command -v llvm-symbolizer || true)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1${symbolizer:+:external_symbolizer_path=$symbolizer}}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for target in "${targets[@]}"; do
  package="${target#//}"; package="${package%%:*}"; name="${target##*:}"
  dir="$work/$name"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  seeds=()
  for seed_dir in "$package/corpus/$name" "$package/regressions/$name"; do
    [[ -d "$seed_dir" ]] && seeds+=("$PWD/$seed_dir")
  done
  # -max_total_time bounds the run; timeout(1) is only the backstop for a fuzzer that hangs outside
  # libFuzzer's own -timeout (per input) and -rss_limit_mb (memory) checks. It runs in the
  # temporary directory, so whatever else libFuzzer writes (-jobs logs, say) stays out of the tree.
  begin=$SECONDS
  (cd "$dir" && exec timeout -k 10 $((seconds + 120)) "$bin/$package/$name" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "${extra[@]}" "$dir/corpus" "${seeds[@]}") > "$dir/log" 2>&1
  rc=$?
  took=$((SECONDS - begin))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
  coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$dir/log" | tail -1)"
  new_inputs="$(find "$dir/corpus" -type f | wc -l)"
  mapfile -t findings < <(find "$dir/artifacts" -type f 2>/dev/null | sort)
  if [[ $rc -eq 0 && ${#findings[@]} -eq 0 ]]; then
    echo "PASSED $target: ${took} s, ${execs:-?} runs, ${coverage:-no coverage line}, ${new_inputs} new inputs in $dir/corpus"
    record "$target" PASSED "${execs:-?} runs in ${took} s"
  else
    failed=1
    echo "FAILED $target (exit code $rc after ${took} s); the end of its log ($dir/log):"
    grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED)' "$dir/log" | tail -n 60 | sed 's/^/    /'
    if [[ ${#findings[@]} -gt 0 ]]; then
      for finding in "${findings[@]}"; do echo "  reproducer: $finding"; done
      echo "  replay: $bin/$package/$name ${findings[0]}"
      echo "  once fixed, keep it: cp ${findings[0]} $package/regressions/$name/"
      record "$target" FAILED "finding, reproducer ${findings[*]}"
    else
      record "$target" FAILED "fuzzer exited with code $rc, no reproducer (see $dir/log)"
    fi
  fi
done
echo "fuzz.sh: done in $((SECONDS - start)) s; logs and generated inputs in $work"
exit $failed
