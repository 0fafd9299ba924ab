#!/usr/bin/env bash
# Before/after check for changes that must not move the fan-out numbers (refactors, build
# changes): runs two all-in-one binaries through the same fan-out scenarios, alternating
# A, B, A, B... so drift of the machine hits both alike, with run_all.sh's pinning (server on
# CPU 0, load generator on CPU 1). Prints one row per run and the median of each.
#
#   tools/bench/compare_builds.sh OLD_BINARY NEW_BINARY [ROUNDS]
#   (build OLD_BINARY from a worktree of the old commit: bazel build //:channelstream)
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ $# -ge 2 ]] || { echo "usage: $0 OLD_BINARY NEW_BINARY [ROUNDS]" >&2; exit 2; }
OLD=$1 NEW=$2 ROUNDS=${3:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-6}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bazel build //tools:loadgen >/dev/null 2>&1 || { echo "bazel build failed" >&2; exit 1; }
RUN_DIR=$(mktemp -d /tmp/channelstream-compare.XXXXXX)
cp "$(bazel info bazel-bin 2>/dev/null)/tools/loadgen" "$RUN_DIR/"
OUT=$RUN_DIR/results.jsonl

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

run() {  # run NAME BINARY LABEL RATE
  local name=$1 binary=$2 label=$3 rate=$4 port pid
  port=$(free_port)
  taskset -c 0 "$binary" --port "$port" --io_threads 1 --log_level WARNING >"$RUN_DIR/$name.log" 2>&1 &
  pid=$!
  wait_port "$port" || { echo "$name did not start" >&2; kill "$pid"; return 1; }
  taskset -c 1 "$RUN_DIR/loadgen" --target channelstream --label "$label" --port "$port" --ws_ports "$port" \
    --pids "$pid" --subscribers 1000 --channels 1 --rate "$rate" --seconds "$SECONDS_PER_RUN" \
    | sed "s/^{/{\"peer\":\"$name\",/" >>"$OUT"
  kill "$pid"; wait "$pid" 2>/dev/null; sleep 0.5
}

for round in $(seq "$ROUNDS"); do
  for rate in 100000 400000; do
    run old "$OLD" "fanout-$((rate / 1000))k" "$rate"
    run new "$NEW" "fanout-$((rate / 1000))k" "$rate"
  done
  echo "round $round of $ROUNDS done" >&2
done

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
def pick(r, *keys):
    for k in keys:
        if r.get(k) is not None:
            return r[k]
    return None
print("| build | scenario | delivered/s | p50 ms | p99 ms | server CPU µs/delivery |")
print("|---|---|---|---|---|---|")
groups = {}
for r in rows:
    groups.setdefault((r["label"], r["peer"]), []).append(r)
for (label, peer), runs in sorted(groups.items()):
    for r in runs:
        print(f'| {peer} | {label} | {pick(r, "deliveries_per_s", "delivered_per_s")} | {pick(r, "p50_ms")} | '
              f'{pick(r, "p99_ms")} | {pick(r, "server_cpu_us_per_delivery")} |')
print()
print("| build | scenario | median delivered/s | median p50 ms | median p99 ms | median CPU µs/delivery |")
print("|---|---|---|---|---|---|")
for (label, peer), runs in sorted(groups.items()):
    def med(*keys):
        values = [pick(r, *keys) for r in runs]
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 2) if values else None
    print(f'| {peer} | {label} | {med("deliveries_per_s", "delivered_per_s")} | {med("p50_ms")} | {med("p99_ms")} | '
          f'{med("server_cpu_us_per_delivery")} |')
EOF
echo "raw results: $OUT" >&2
