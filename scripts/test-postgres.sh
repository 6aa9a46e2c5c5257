#!/usr/bin/env bash
# The gateway's end-to-end tests (the GatewayTests target) on PostgreSQL: each gateway the tests
# start gets a fresh database on a throwaway cluster (scripts/postgres-cluster.sh, started by the
# tests themselves). Tests that read or write the SQLite tables directly are skipped.
# `swift test` itself runs the store contract on both stores and a subset of these end to end
# on PostgreSQL (PostgresEndToEndTests); this runs all of them.
#
#   scripts/test-postgres.sh [more swift test options, e.g. --filter Webhook]
set -euo pipefail
cd "$(dirname "$0")/.."
GATEWAY_TEST_DATABASE=postgres exec swift test --filter GatewayTests "$@"
