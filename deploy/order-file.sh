#!/usr/bin/env bash
# Regenerates deploy/rokt-gateway.order, the symbol-ordering file that deploy/build.sh hands to
# the linker: first the functions a gateway runs from start-up to idle (start on an existing
# database, health checks, the periodic work), then the ones that serving requests adds (reads,
# writes through the engine to a Rokt, webhooks, metrics), each group sorted by name. lld lays
# those sections out first, so the code a replica keeps using shares as few pages as possible:
# a page fault maps 64 KiB of code at once, and scattered hot functions cost whole windows.
# The profile is callgrind's (which functions ran, not how long). A stale file only loses some
# of the gain (names it lists that no longer exist are skipped); re-run this after large changes.
#
#   deploy/order-file.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
source deploy/harness.sh
port=18290
key=rgw_order_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
healthy() { # seconds
  for _ in $(seq $(($1 * 10))); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "the gateway did not answer:"; cat "$work/gateway.log"; exit 1
}

start_sandbox || { echo "the sandbox did not start:"; cat "$work/sandbox.log"; exit 1; }
export PORT=$port DATABASE_PATH="$work/gateway.sqlite3" ROKT_BASE_URL=http://127.0.0.1:$sandbox_port
export ROKT_API_TOKEN=sandbox-token ROKT_PARENT_ACCOUNT_ID=demo-parent GATEWAY_BOOTSTRAP_API_KEY=$key LOG_LEVEL=warn
export WEBHOOK_ALLOW_PRIVATE_NETWORKS=true

# A first start makes the database: a replica that restarts finds it made.
"$bin/rokt-gateway" serve >"$work/gateway.log" 2>&1 &
first=$!
healthy 10; kill "$first"; wait "$first" || true

valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$work/cg.out" \
  "$bin/rokt-gateway" serve >"$work/gateway.log" 2>&1 &
profiled=$!
pids+=($profiled)
healthy 120
for _ in 1 2 3; do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; sleep 1; done
sleep 2
callgrind_control --dump=idle "$profiled" >/dev/null

auth=(-sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json')
base=http://127.0.0.1:$port/v1
curl "${auth[@]}" "$base/merchants/demo-merchant-1/controls"
curl "${auth[@]}" -d '{"domain":"order.example.com"}' "$base/merchants/demo-merchant-1/controls/blocked-domains"
curl "${auth[@]}" -X DELETE "$base/merchants/demo-merchant-1/controls/blocked-domains/order.example.com"
curl "${auth[@]}" -d '{"partnerVerticalId":1504,"partnerSubVerticalId":1612}' "$base/merchants/demo-merchant-1/controls/blocked-verticals"
curl "${auth[@]}" "$base/merchants/demo-merchant-1/status"
curl "${auth[@]}" -X POST "$base/merchants/demo-merchant-1/pause"
curl "${auth[@]}" -X POST "$base/merchants/demo-merchant-1/resume"
curl "${auth[@]}" -d '{"url":"http://127.0.0.1:9/hook"}' "$base/webhook-endpoints"
curl "${auth[@]}" "$base/operations?limit=10"
curl "${auth[@]}" "$base/merchants"
curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"
sleep 2
kill -INT "$profiled"; wait "$profiled" || true

# Function names callgrind saw, in a dump: "fn=(id) name" the first time, "fn=(id)" after.
names() { sed -nE 's/^c?fn=\([0-9]+\) (.+)$/\1/p' "$1" | grep -v '^0x' | sort -u; }
names "$work/cg.out.1" >"$work/idle"
names "$work/cg.out" | comm -23 - "$work/idle" >"$work/serving"
cat "$work/idle" "$work/serving" >deploy/rokt-gateway.order
echo "deploy/rokt-gateway.order: $(wc -l <"$work/idle") functions to idle, then $(wc -l <"$work/serving") more for serving"
