#!/usr/bin/env bash
# Chaos run (bench/chaos.py has the rules): writers add and remove blocked domains and verticals
# on three merchants through `rokt-gateway serve` while it is SIGKILLed every 1.5–3.5 s and
# restarted on the same port and database, and `rokt-sandbox` injects 503s, 429s, drops after
# applying and foreign edits. Then every accepted operation must end and the sandbox must hold
# exactly the accepted changes. Prints the counts; exits non-zero on any violation.
#
#   bench/chaos.sh [seconds=600] [chaos.py options: --writers N, --seed N, --keep, …]
#   bench/chaos.sh 30 --replicas 3   # three gateways on one PostgreSQL behind HAProxy, killed in
#                                    # turn (bench/chaos_replicas.py; needs postgresql and haproxy)
#
# BIN_DIR: where rokt-gateway and rokt-sandbox are; default the shipped build (deploy/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
BIN_DIR=${BIN_DIR:-$(deploy/build.sh | tail -1)}
# The checker's own rules first: a checker that cannot fail proves nothing.
for test in bench/chaos_model_test.py bench/chaos_replicas_test.py; do
  tests=$(python3 -B "$test" 2>&1) || { echo "$tests"; exit 1; }
  echo "$test: ${tests##*$'\n'}"
done
exec python3 -B bench/chaos.py --seconds "$seconds" --bin-dir "$BIN_DIR" "${@:2}"
