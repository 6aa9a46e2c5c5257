#!/usr/bin/env bash
# Durable writes per second through Store's Database.write (group commit, synchronous=FULL)
# with 1, 16, 64 and 256 concurrent writers, one small row per write; and the floor of one
# fsync'd commit per row. Prints rows/s, commits/s, rows per commit and write latency p50/p99.
#
# With --postgres: durable submits per second through the gateway's PostgreSQL store
# (synchronous_commit on, a pool of 16) with 16, 64 and 256 concurrent submitters, on a
# scratch database of the test cluster (scripts/postgres-cluster.sh). Prints submits/s, p50/p99.
#
#   bench/store.sh [--postgres] [seconds per run = 3]
set -euo pipefail
cd "$(dirname "$0")/.."
filter='StoreTests.StoreBenchmark'
if [ "${1:-}" = "--postgres" ]; then
  filter='GatewayTests.PostgresStoreBenchmark'
  shift
fi
# Release build; the test target uses @testable imports elsewhere, hence -enable-testing.
STORE_BENCH=1 STORE_BENCH_SECONDS="${1:-3}" \
  swift test -c release -Xswiftc -enable-testing --filter "$filter" 2>&1 \
  | grep -vE '^\[[0-9]+/[0-9]+\]|^(Building|Build complete|Compiling|Write|Linking)'
