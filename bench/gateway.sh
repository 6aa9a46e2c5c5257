#!/usr/bin/env bash
# The gateway's own benchmarks (issue 4 §9) on `rokt-gateway serve --sandbox`, with 0 ms and
# with 5 ms of injected upstream latency: durable operations accepted/completed per second,
# upstream PUTs per operation for 1,000 concurrent adds on one merchant, synchronous add latency
# at 1/16/64 callers, and the gateway's added latency on GET status against the sandbox direct.
#
#   bench/gateway.sh [seconds-per-wrk-run=10] [--only-accept]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
EXTRA=${2:-}
LATENCIES=${LATENCIES:-"0 5"}
PORT=18180
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
swift build -c release --static-swift-stdlib --product rokt-gateway >/dev/null
BIN=$(swift build -c release --static-swift-stdlib --show-bin-path)/rokt-gateway
ulimit -n 20000
for latency in $LATENCIES; do
  work=$(mktemp -d)
  PORT=$PORT DATABASE_PATH="$work/gateway.sqlite3" "$BIN" serve --sandbox >"$work/out.txt" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "^API key" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
  sandbox=$(awk '/^Rokt sandbox/ {print $NF}' "$work/out.txt")
  key=$(awk -F': ' '/^API key/ {print $2}' "$work/out.txt")
  python3 bench/gateway_load.py --gateway "http://127.0.0.1:$PORT" --sandbox "$sandbox" --key "$key" \
    --database "$work/gateway.sqlite3" --latency-ms "$latency" --seconds "$SECONDS_PER_RUN" $EXTRA || true
  kill -TERM $pid; wait $pid 2>/dev/null || true
  rm -rf "$work"
done
