#!/usr/bin/env bash
# Smoke run of the benchmark load generator against the all-in-one server: a small WebSocket
# fan-out, a many-channel run with batched publishes, and a long-poll run must each deliver
# every message (no loss, no closed subscriber). It checks that the tool keeps working, not speed.
set -euo pipefail
SERVER=./channelstream
LOADGEN=./tools/loadgen
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SERVER" --port "$PORT" --log_level WARNING &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null' EXIT
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

check() {  # check NAME JSON_LINE
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
name, result = sys.argv[1], json.loads(sys.argv[2])
problems = []
if result["subscribers_opened"] != result["subscribers"]: problems.append("not every subscriber opened")
if result["expected_deliveries"] <= 0: problems.append("nothing was published")
if result["lost_deliveries"] != 0: problems.append(f'{result["lost_deliveries"]:.0f} deliveries lost')
if result["publish_errors"] != 0: problems.append("publish errors")
if result["subscribers_closed"] != 0: problems.append("subscribers closed")
if result["server_cpu_seconds"] <= 0: problems.append("no server CPU measured")
print(f'{name}: {result["received_deliveries"]:.0f}/{result["expected_deliveries"]:.0f} delivered, '
      f'p99 {result["p99_ms"]} ms' + ("" if not problems else " -- FAIL: " + ", ".join(problems)))
sys.exit(1 if problems else 0)
PY
}

common=(--target channelstream --port "$PORT" --pids "$SERVER_PID" --warmup 0.5 --seconds 1.5 --drain 5)
check ws-fanout "$("$LOADGEN" "${common[@]}" --subscribers 50 --channels 1 --rate 5000)"
check many-channels "$("$LOADGEN" "${common[@]}" --subscribers 200 --channels 20 --rate 4000 --batch 5)"
check longpoll "$("$LOADGEN" "${common[@]}" --transport longpoll --subscribers 20 --channels 1 --rate 1000)"
# Bad options are refused with exit code 2.
set +e
"$LOADGEN" --nonsense 1 2>/dev/null; [[ $? -eq 2 ]] || { echo "unknown option not refused"; exit 1; }
echo "loadgen smoke: ok"
