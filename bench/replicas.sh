#!/usr/bin/env bash
# Scale-out benchmark, side by side in one run: (a) 1 gateway replica on SQLite, (b) 1 replica on
# PostgreSQL, (c) 2 and (d) 3 replicas on PostgreSQL, runs interleaved (a b c d a b c d …), each
# on a fresh `rokt-sandbox` (its own process, niceness 10) and a fresh database of one throwaway
# PostgreSQL cluster (scripts/postgres-cluster.sh). Figures: accepted/s and completed/s, PUTs per
# operation for 1,000 concurrent adds on one merchant spread over the replicas, synchronous add
# p50/p99 split by whether the caller's replica ran the job, webhook success→arrival p50/p99;
# then the medians and each one's ratio to (a). bench/replicas.py has the method.
#
#   bench/replicas.sh [seconds-per-run=10]    # RUNS=3, CONFIGS=abcd
#   bench/replicas.sh --smoke                 # 2 s, 1 run, (a) and (c): exits 1 on any failure, non-2xx,
#                                             # lost webhook, or more than 0.05 PUT per operation
#
# RUNS: repetitions of each configuration (default 3). CONFIGS: which of a b c d (default abcd).
# BIN_DIR: where rokt-gateway and rokt-sandbox are; default the shipped build (deploy/build.sh).
# SYNC_SAMPLES / WEBHOOK_SAMPLES: samples per run of those two figures (default 100).
# DATABASE_CONNECTIONS_IN_ALL, ENGINE_JOBS_IN_ALL: PostgreSQL connections and concurrent jobs of all
# replicas together, split over them, the remainder to the first (default 16 and 32, one replica's defaults).
# EVENT_LOOPS_IN_ALL: event loops of all replicas together (HTTP_EVENT_LOOPS), split the same way, at
# least 1 each (default the machine's cores, one replica's default).
# KEEP=1: keep each run's directory (the replicas' and sandbox's logs).
set -euo pipefail
cd "$(dirname "$0")/.."
options=()
if [ "${1:-}" = --smoke ]; then
  seconds=2 RUNS=1 CONFIGS=ac SYNC_SAMPLES=${SYNC_SAMPLES:-20} WEBHOOK_SAMPLES=${WEBHOOK_SAMPLES:-20}
  options+=(--smoke)
else
  seconds=${1:-10}
fi
RUNS=${RUNS:-3}
CONFIGS=${CONFIGS:-abcd}
[ "${KEEP:-}" != 1 ] || options+=(--keep)
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
BIN_DIR=$(cd "${BIN_DIR:-$(deploy/build.sh | tail -1)}" && pwd)
ulimit -n 20000

cluster=
runner=
cleanup() {
  if [ -n "$runner" ]; then
    # replicas.py leads its own process group: SIGTERM reaches it and every process it started;
    # it stops them itself (each within 30 s), and whatever is left after 60 s is killed.
    kill -TERM -- "-$runner" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$runner" 2>/dev/null || true
  fi
  [ -z "$cluster" ] || scripts/postgres-cluster.sh stop "$cluster" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

postgres=()
if [[ $CONFIGS == *[bcd]* ]]; then
  cluster=$(mktemp -d -t replicas-postgres.XXXXXX)
  url=$(scripts/postgres-cluster.sh start "$cluster" | tail -1)
  psql=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
  postgres=(--postgres-url "$url" --psql "$psql")
fi
python3 -B bench/replicas.py --process-group --bin-dir "$BIN_DIR" --configs "$CONFIGS" --runs "$RUNS" \
  --seconds "$seconds" --sync-samples "${SYNC_SAMPLES:-100}" --webhook-samples "${WEBHOOK_SAMPLES:-100}" \
  "${postgres[@]}" "${options[@]}" &
runner=$!
status=0
wait "$runner" || status=$?
runner=
exit "$status"
