#!/usr/bin/env bash
# GET /healthz: our server against nginx on loopback, wrk at 64 and 256 connections,
# rounds interleaved (ours, nginx, ours, nginx, ...), medians and the ratio ours/nginx;
# then our RSS idle and with 10,000 idle keep-alive connections open.
#
#   bench/http.sh [rounds=3] [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
OURS_PORT=18080
NGINX_PORT=18081

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null && [ -x "$(command -v nginx)" ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# The binary the container ships (deploy/build.sh: one static PIE).
BIN=$(deploy/build.sh | tail -1)/rokt-gateway

work=$(mktemp -d)
cleanup() { kill "${OURS_PID:-}" 2>/dev/null || true; "$NGINX" -p "$work" -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
worker_rlimit_nofile 20000;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 12000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
"$NGINX" -p "$work" -c "$work/nginx.conf"

ulimit -n 20000
# /healthz touches neither Rokt nor the store, but `serve` needs its Rokt settings to start.
PORT=$OURS_PORT DATABASE_PATH="$work/gateway.sqlite3" ROKT_BASE_URL=http://127.0.0.1:9 ROKT_API_TOKEN=bench \
  ROKT_PARENT_ACCOUNT_ID=bench LOG_LEVEL=warn "$BIN" serve >"$work/ours.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$OURS_PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$OURS_PORT/healthz" >/dev/null || { echo "our server did not start:"; cat "$work/ours.log"; exit 1; }
curl -sf "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null

# wrk prints latency in us/ms/s; normalise to milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }
run_wrk() { # port connections -> "rps p50 p99"
  local out; out=$(wrk -t2 -c"$2" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$1/healthz")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  echo "$rps $p50 $p99"
}
median() { sort -g | awk '{a[NR]=$1} END { print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) }'; }

echo "rounds=$ROUNDS seconds=$SECONDS_PER_RUN cores=$(nproc) ($(date -u +%FT%TZ))"
for conns in 64 256; do
  : > "$work/ours.$conns"; : > "$work/nginx.$conns"
  for r in $(seq "$ROUNDS"); do
    run_wrk $OURS_PORT "$conns" >> "$work/ours.$conns"
    run_wrk $NGINX_PORT "$conns" >> "$work/nginx.$conns"
  done
  for who in ours nginx; do
    f="$work/$who.$conns"
    printf "%-5s c=%-3s runs: %s\n" "$who" "$conns" "$(awk '{printf "%s req/s (p50 %s ms, p99 %s ms); ", $1, $2, $3}' "$f")"
  done
  o_rps=$(cut -d' ' -f1 "$work/ours.$conns" | median); n_rps=$(cut -d' ' -f1 "$work/nginx.$conns" | median)
  o_p50=$(cut -d' ' -f2 "$work/ours.$conns" | median); n_p50=$(cut -d' ' -f2 "$work/nginx.$conns" | median)
  o_p99=$(cut -d' ' -f3 "$work/ours.$conns" | median); n_p99=$(cut -d' ' -f3 "$work/nginx.$conns" | median)
  printf "c=%-3s median  ours %8.0f req/s p50 %6.3f ms p99 %6.3f ms | nginx %8.0f req/s p50 %6.3f ms p99 %6.3f ms | ours/nginx rps %.2fx, p99 %.2fx\n" \
    "$conns" "$o_rps" "$o_p50" "$o_p99" "$n_rps" "$n_p50" "$n_p99" \
    "$(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN{print a/b}')" "$(awk -v a="$o_p99" -v b="$n_p99" 'BEGIN{print a/b}')"
done

# Memory: restart ours so the idle figure is not inflated by the load above.
kill $OURS_PID; wait $OURS_PID 2>/dev/null || true
# /healthz touches neither Rokt nor the store, but `serve` needs its Rokt settings to start.
PORT=$OURS_PORT DATABASE_PATH="$work/gateway.sqlite3" ROKT_BASE_URL=http://127.0.0.1:9 ROKT_API_TOKEN=bench \
  ROKT_PARENT_ACCOUNT_ID=bench LOG_LEVEL=warn "$BIN" serve >"$work/ours.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$OURS_PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$OURS_PORT/healthz" >/dev/null || { echo "our server did not start:"; cat "$work/ours.log"; exit 1; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$OURS_PID/status"; }
echo "idle RSS after one request: $(rss) MiB"
python3 bench/idle_connections.py --port $OURS_PORT --connections 10000 --hold-seconds 4 --pid $OURS_PID
