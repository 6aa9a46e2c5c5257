#!/usr/bin/env bash
# Webhook delivery benchmark: deliveries per second to a local receiver, and the
# delay from an operation's success to its webhook's arrival (p50/p99), on `serve --sandbox`.
#
#   bench/webhooks.sh [runs=3] [endpoints=20] [operations=500]
#
# Each run uses a fresh gateway and database; BENCHMARKS.md reports the medians of the runs.
set -euo pipefail
source "$(dirname "$0")/without-guards.sh"
cd "$(dirname "$0")/.."
RUNS=${1:-3}
ENDPOINTS=${2:-20}
OPERATIONS=${3:-500}
PORT=18190
# BIN_DIR: where rokt-gateway is; default the shipped build (deploy/build.sh).
BIN=${BIN_DIR:-$(deploy/build.sh | tail -1)}/rokt-gateway
for run in $(seq "$RUNS"); do
  work=$(mktemp -d)
  # Private networks allowed: the receiver is on loopback.
  PORT=$PORT DATABASE_PATH="$work/gateway.sqlite3" WEBHOOK_ALLOW_PRIVATE_NETWORKS=true LOG_LEVEL=warn \
    "$BIN" serve --sandbox >"$work/out.txt" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "^API key" "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
  sandbox=$(awk '/^Rokt sandbox/ {print $NF}' "$work/out.txt")
  key=$(awk -F': ' '/^API key/ {print $2}' "$work/out.txt")
  echo "run $run:"
  python3 bench/webhook_bench.py --gateway "http://127.0.0.1:$PORT" --sandbox "$sandbox" --key "$key" \
    --database "$work/gateway.sqlite3" --endpoints "$ENDPOINTS" --operations "$OPERATIONS" || true
  kill -TERM $pid; wait $pid 2>/dev/null || true
  rm -rf "$work"
done
