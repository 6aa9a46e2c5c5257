#!/usr/bin/env bash
# Admissions per second through CallerRateLimits.admit from 1, 2, 4 and 8 threads: spread over
# 10,000 callers, all on one caller (one lock stripe), and a flood of new partitions into a full
# table (the eviction path). Prints admits/s and ns per admit per thread.
#
#   bench/rate-limits.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Release build; the test target uses @testable imports elsewhere, hence -enable-testing.
RATE_LIMIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter 'GatewayTests.RateLimitBenchmark' 2>&1 \
  | grep -vE '^\[[0-9]+/[0-9]+\]|^(Building|Build complete|Compiling|Write|Linking)'
