#!/usr/bin/env bash
# Idle memory of the shipped gateway binary (deploy/build.sh), side by side with a reference:
# by default the same sources linked the way the container was built before (a plain
# `--static-swift-stdlib` release build: glibc, libstdc++, OpenSSL and SQLite as shared
# libraries); with REF=<git revision>, that revision built that way in a temporary worktree.
# Rounds interleave ours and the reference. Each round: a fresh database made by a first start
# (as in bench/http.sh), a second start, one GET /healthz, then VmRSS (and its file-backed and
# anonymous parts) at once and again 2 s later. Prints every round and the medians.
#
#   bench/rss.sh [rounds=5]          REF=<rev> bench/rss.sh [rounds]
set -euo pipefail
source "$(dirname "$0")/without-guards.sh"
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
PORT=18180

ours=$(deploy/build.sh | tail -1)/rokt-gateway
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; [ -n "${tree:-}" ] && git worktree remove --force "$tree" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
if [ -n "${REF:-}" ]; then
  tree="$work/ref"; git worktree add --detach "$tree" "$REF" >/dev/null 2>&1
  (cd "$tree" && swift build -c release --static-swift-stdlib --product rokt-gateway >&2)
  reference="$tree/.build/release/rokt-gateway"; label="$REF, --static-swift-stdlib"
else
  swift build -c release --static-swift-stdlib --scratch-path .build-dynamic --product rokt-gateway >&2
  reference=$(swift build -c release --static-swift-stdlib --scratch-path .build-dynamic --show-bin-path)/rokt-gateway
  label="these sources, --static-swift-stdlib"
fi

start() { # binary database -> pid, once /healthz answers
  PORT=$PORT DATABASE_PATH="$2" ROKT_BASE_URL=http://127.0.0.1:9 ROKT_API_TOKEN=bench ROKT_PARENT_ACCOUNT_ID=bench \
    LOG_LEVEL=warn "$1" serve >>"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0; sleep 0.05; done
  echo "the gateway did not start:"; cat "$work/log"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }
measure() { # binary -> "rss file anon rss_after_2s" in KiB
  local db="$work/$RANDOM.sqlite3"
  start "$1" "$db"; stop
  start "$1" "$db"
  local rss file anon; rss=$(kib VmRSS); file=$(kib RssFile); anon=$(kib RssAnon)
  sleep 2; echo "$rss $file $anon $(kib VmRSS)"; stop
}
median() { sort -g | awk '{a[NR]=$1} END { print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "rounds=$ROUNDS ($(date -u +%FT%TZ)); ours: deploy/build.sh; reference: $label"
for r in $(seq "$ROUNDS"); do
  measure "$ours" >>"$work/ours"; measure "$reference" >>"$work/reference"
done
for who in ours reference; do
  printf "%-9s runs (MiB, idle after one request): %s\n" "$who" "$(awk '{printf "%.1f ", $1/1024}' "$work/$who")"
done
for who in ours reference; do
  f="$work/$who"
  printf "%-9s median VmRSS %s MiB (file-backed %s, anonymous %s); 2 s later %s MiB\n" "$who" \
    "$(mib "$(cut -d' ' -f1 "$f" | median)")" "$(mib "$(cut -d' ' -f2 "$f" | median)")" \
    "$(mib "$(cut -d' ' -f3 "$f" | median)")" "$(mib "$(cut -d' ' -f4 "$f" | median)")"
done
o=$(cut -d' ' -f1 "$work/ours" | median); ref=$(cut -d' ' -f1 "$work/reference" | median)
echo "ours/reference idle RSS: $(awk -v a="$o" -v b="$ref" 'BEGIN { printf "%.2fx", a / b }')"
