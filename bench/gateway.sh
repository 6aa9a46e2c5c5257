#!/usr/bin/env bash
# The gateway's own benchmarks on `rokt-gateway serve --sandbox`, with 0 ms and
# with 5 ms of injected upstream latency: durable operations accepted/completed per second,
# upstream PUTs per operation for 1,000 concurrent adds on one merchant, synchronous add latency
# at 1/16/64 callers, and the gateway's added latency on GET status against the sandbox direct.
#
#   bench/gateway.sh [seconds-per-wrk-run=10] [--only-accept]
#
# SANDBOX=embedded (default): `serve --sandbox`, the sandbox sharing the gateway's process and CPU.
# SANDBOX=external: the `rokt-sandbox` executable as its own process at niceness 10, standing in
#   for a remote Rokt whose CPU is not ours (the gateway then runs plain `serve` against it).
# LATENCIES="0 5" (default): the upstream latencies to run.
# BIN_DIR: where rokt-gateway and rokt-sandbox are; default the shipped build (deploy/build.sh).
set -euo pipefail
source "$(dirname "$0")/without-guards.sh"
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
EXTRA=${2:-}
LATENCIES=${LATENCIES:-"0 5"}
PORT=18180
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
SANDBOX=${SANDBOX:-embedded}
BIN_DIR=${BIN_DIR:-$(deploy/build.sh | tail -1)}
BIN=$BIN_DIR/rokt-gateway
SANDBOX_BIN=$BIN_DIR/rokt-sandbox
ulimit -n 20000
for latency in $LATENCIES; do
  work=$(mktemp -d)
  sandbox_pid=
  if [ "$SANDBOX" = external ]; then
    nice -n 10 "$SANDBOX_BIN" --port 0 --seed demo >"$work/sandbox.txt" 2>&1 &
    sandbox_pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/sandbox.txt" 2>/dev/null && break; sleep 0.1; done
    sandbox=$(awk '/listening on/ {print $NF}' "$work/sandbox.txt")
    key=rgw_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    PORT=$PORT DATABASE_PATH="$work/gateway.sqlite3" ROKT_BASE_URL="$sandbox" ROKT_API_TOKEN=sandbox-token \
      ROKT_PARENT_ACCOUNT_ID=demo-parent GATEWAY_BOOTSTRAP_API_KEY="$key" LOG_LEVEL=warn "$BIN" serve >"$work/out.txt" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  else
    PORT=$PORT DATABASE_PATH="$work/gateway.sqlite3" "$BIN" serve --sandbox >"$work/out.txt" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "^API key" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
    sandbox=$(awk '/^Rokt sandbox/ {print $NF}' "$work/out.txt")
    key=$(awk -F': ' '/^API key/ {print $2}' "$work/out.txt")
  fi
  python3 bench/gateway_load.py --gateway "http://127.0.0.1:$PORT" --sandbox "$sandbox" --key "$key" \
    --database "$work/gateway.sqlite3" --latency-ms "$latency" --seconds "$SECONDS_PER_RUN" $EXTRA || true
  kill -TERM $pid; wait $pid 2>/dev/null || true
  if [ -n "$sandbox_pid" ]; then kill -TERM $sandbox_pid; wait $sandbox_pid 2>/dev/null || true; fi
  rm -rf "$work"
done
