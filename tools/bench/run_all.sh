#!/usr/bin/env bash
# Runs the whole comparison: Channelstream (all-in-one and split), uWebSockets.js and Nchan,
# the same scenarios, the same pinning (servers on CPU 0, the load generator on CPU 1), the same
# generator. Writes tools/bench/results/latest.jsonl and the results table in docs/BENCHMARKS.md.
#
#   tools/bench/run_all.sh            # everything (~15 minutes)
#   BENCH_QUICK=1 tools/bench/run_all.sh   # shorter windows, fewer rate steps
#   BENCH_PEERS="channelstream uws" tools/bench/run_all.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RESULTS=$ROOT/tools/bench/results
RUN_DIR=$(mktemp -d /tmp/channelstream-bench.XXXXXX)
mkdir -p "$RESULTS"
OUT=$RESULTS/latest.jsonl
: > "$OUT"
PEERS=${BENCH_PEERS:-"channelstream uws nchan"}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
[[ -n "${BENCH_QUICK:-}" ]] && SECONDS_PER_RUN=4
SATURATION_STEPS=${BENCH_STEPS:-"200000 400000 600000 800000 1000000 1200000 1400000 1600000 2000000"}
[[ -n "${BENCH_QUICK:-}" ]] && SATURATION_STEPS="400000 800000"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- prerequisites: Debian packages for Nchan, npm package for uWebSockets.js -------------------
./tools/install.sh >/dev/null || exit 1
if [[ " $PEERS " == *" nchan "* ]] && [[ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]]; then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends nginx-light libnginx-mod-nchan >/dev/null
  $sudo_cmd service nginx stop >/dev/null 2>&1 || true
fi
if [[ " $PEERS " == *" uws "* ]] && [[ ! -d tools/bench/peers/uws/node_modules/@trufflesuite ]]; then
  (cd tools/bench/peers/uws && npm ci --no-audit --no-fund --silent) || exit 1
fi
bazel build //:channelstream //broker:broker //gateway:gateway //rest_adapter:rest_adapter //tools:loadgen >/dev/null 2>&1 \
  || { echo "bazel build failed"; exit 1; }
BIN=$(bazel info bazel-bin 2>/dev/null)
cp "$BIN/channelstream" "$BIN/broker/broker" "$BIN/gateway/gateway" "$BIN/rest_adapter/rest_adapter" "$BIN/tools/loadgen" "$RUN_DIR/"

LOADGEN=(taskset -c 1 "$RUN_DIR/loadgen")
PIDS=""

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
children() { local all="$1" p; for p in $(pgrep -P "$1"); do all="$all,$p"; done; echo "$all"; }

start_channelstream() {
  PORT=$(free_port)
  taskset -c 0 "$RUN_DIR/channelstream" --port "$PORT" --io_threads 1 --log_level WARNING \
    --max_connections_per_user 100000 >"$RUN_DIR/server.log" 2>&1 &
  SERVER_PIDS=$!; PIDS=$SERVER_PIDS; WS_PORTS=$PORT; wait_port "$PORT"
}
start_split() {
  local broker_port=$(free_port) g1=$(free_port) g2=$(free_port)
  PORT=$(free_port)
  taskset -c 0 "$RUN_DIR/broker" --broker_listen "127.0.0.1:$broker_port" --log_level WARNING >"$RUN_DIR/broker.log" 2>&1 &
  local b=$!; wait_port "$broker_port"
  taskset -c 0 "$RUN_DIR/rest_adapter" --port "$PORT" --broker_address "127.0.0.1:$broker_port" --io_threads 1 \
    --log_level WARNING >"$RUN_DIR/rest.log" 2>&1 &
  local r=$!
  taskset -c 0 "$RUN_DIR/gateway" --port "$g1" --broker_address "127.0.0.1:$broker_port" --io_threads 1 \
    --log_level WARNING >"$RUN_DIR/g1.log" 2>&1 &
  local a=$!
  taskset -c 0 "$RUN_DIR/gateway" --port "$g2" --broker_address "127.0.0.1:$broker_port" --io_threads 1 \
    --log_level WARNING >"$RUN_DIR/g2.log" 2>&1 &
  local c=$!
  wait_port "$PORT"; wait_port "$g1"; wait_port "$g2"; sleep 1.5  # gateways open their broker streams
  PIDS="$b,$r,$a,$c"; SERVER_PIDS="$b $r $a $c"; WS_PORTS="$g1,$g2"
}
start_uws() {
  PORT=$(free_port)
  (cd tools/bench/peers/uws && exec taskset -c 0 node server.js "$PORT") >"$RUN_DIR/uws.log" 2>&1 &
  SERVER_PIDS=$!; PIDS=$SERVER_PIDS; WS_PORTS=$PORT; wait_port "$PORT"
}
start_nchan() {
  PORT=$(free_port)
  local dir=$RUN_DIR/nchan; rm -rf "$dir"; mkdir -p "$dir"
  sed -e "s|@PORT@|$PORT|g" -e "s|@DIR@|$dir|g" tools/bench/peers/nchan/nginx.conf.in >"$dir/nginx.conf"
  taskset -c 0 nginx -c "$dir/nginx.conf" -p "$dir" >"$RUN_DIR/nginx.log" 2>&1 &
  SERVER_PIDS=$!; wait_port "$PORT"; sleep 0.3
  PIDS=$(children "$SERVER_PIDS"); WS_PORTS=$PORT
}
stop_server() {
  for pid in $SERVER_PIDS; do kill "$pid" 2>/dev/null; done
  for pid in $SERVER_PIDS; do wait "$pid" 2>/dev/null; done
  sleep 0.5
}

# run PEER LABEL START_FUNCTION LOADGEN_ARGS...
run() {
  local peer=$1 label=$2 starter=$3; shift 3
  $starter
  echo "--- $peer: $label" >&2
  "${LOADGEN[@]}" --target "$([[ $peer == split ]] && echo channelstream || echo "$peer")" --label "$label" \
    --port "$PORT" --ws_ports "$WS_PORTS" --pids "$PIDS" "$@" | sed "s/^{/{\"peer\":\"$peer\",/" >>"$OUT"
  stop_server
}

for peer in $PEERS; do
  starter=start_$peer
  batch=(); [[ $peer == channelstream ]] && batch=(--batch 20)
  run "$peer" fanout-100k "$starter" --subscribers 1000 --channels 1 --rate 100000 --seconds "$SECONDS_PER_RUN"
  run "$peer" fanout-400k "$starter" --subscribers 1000 --channels 1 --rate 400000 --seconds "$SECONDS_PER_RUN"
  for rate in $SATURATION_STEPS; do
    run "$peer" "saturation-$rate" "$starter" --subscribers 1000 --channels 1 --rate "$rate" --seconds "$SECONDS_PER_RUN" \
      --publishers 8
  done
  run "$peer" many-channels "$starter" --subscribers 10000 --channels 1000 --rate 100000 --seconds "$SECONDS_PER_RUN" \
    --publishers 16 "${batch[@]}"
  run "$peer" idle-10k "$starter" --scenario idle --subscribers 10000 --channels 100
  run "$peer" connect-storm "$starter" --scenario storm --subscribers 5000 --channels 100 --concurrency 64
  if [[ $peer == channelstream ]]; then
    run "$peer" idle-max "$starter" --scenario idle --subscribers 19000 --channels 100
    run "$peer" longpoll-fanout "$starter" --transport longpoll --subscribers 1000 --channels 1 --rate 50000 \
      --seconds "$SECONDS_PER_RUN"
    run split fanout-100k start_split --subscribers 1000 --channels 1 --rate 100000 --seconds "$SECONDS_PER_RUN"
    run split fanout-400k start_split --subscribers 1000 --channels 1 --rate 400000 --seconds "$SECONDS_PER_RUN"
  fi
done

python3 tools/bench/write_results.py "$OUT" docs/BENCHMARKS.md
echo "results: $OUT; table written to docs/BENCHMARKS.md"
rm -rf "$RUN_DIR"
