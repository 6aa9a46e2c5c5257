#!/usr/bin/env bash
# Smoke test of the shipped binaries (deploy/build.sh), run by .ci/run: they are static PIEs,
# they start, migrate, make an API key, stay within the idle memory bound, and carry a real
# write through the gateway to the sandbox over TLS (OpenSSL with CA verification, a host name
# through the static glibc's resolver, SQLite, the engine), then stop gracefully on SIGTERM.
# The unit and end-to-end tests run on the debug build; this proves that the release link kept
# what they prove. IDLE_RSS_LIMIT_KIB (12288) is the memory bound.
#
#   deploy/smoke-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/harness.sh
checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
fail() {
  echo "smoke test FAILED: $*"
  for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; cat "$log"; }; done
  exit 1
}

for exe in rokt-gateway rokt-sandbox; do
  headers=$(readelf -lW "$bin/$exe")
  grep -q 'INTERP' <<<"$headers" && fail "$exe needs a dynamic loader"
  grep -q 'DYN (Position-Independent Executable' <<<"$headers" || fail "$exe is not position-independent"
done
ok "both executables are static PIEs"

"$bin/rokt-gateway" --help | grep -q 'rokt-gateway serve' || fail "--help"
ok "--help"
revision=$(git describe --tags --always --dirty 2>/dev/null || true)
version=$("$bin/rokt-gateway" --version)
[ -z "$revision" ] || [[ "$(head -n 1 <<<"$version")" == *"(git $revision)" ]] || fail "--version does not name $revision: $version"
grep -q '^openssl ' <<<"$version" && grep -q '^sqlite ' <<<"$version" || fail "--version: $version"
ok "--version: $(head -n 1 <<<"$version")"

export DATABASE_PATH="$work/gateway.sqlite3" LOG_FORMAT=json
"$bin/rokt-gateway" migrate >"$work/migrate.log" 2>&1 || fail "migrate"
key=$("$bin/rokt-gateway" keys create --name smoke --scope read --scope write 2>"$work/keys.log" | tail -1)
[[ "$key" == rgw_* ]] || fail "keys create printed '$key'"
ok "migrate, keys create"

start_sandbox || fail "sandbox did not start"

# A throwaway CA and a certificate for "localhost", trusted through SSL_CERT_FILE only.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=smoke-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
python3 deploy/tls_proxy.py "$work/server.pem" "$work/server.key" "$sandbox_port" >"$work/proxy.log" 2>&1 &
pids+=($!)
tls_port=$(wait_for "$work/proxy.log" '^[0-9]+$') || fail "TLS proxy did not start"

PORT=0 ROKT_BASE_URL="https://localhost:$tls_port" ROKT_ECOMMERCE_BASE_URL="https://localhost:$tls_port" \
  ROKT_API_TOKEN=sandbox-token ROKT_PARENT_ACCOUNT_ID=demo-parent SSL_CERT_FILE="$work/ca.pem" \
  "$bin/rokt-gateway" serve >"$work/gateway.log" 2>&1 &
gateway=$!
pids+=($gateway)
port=$(wait_for "$work/gateway.log" '"msg":"listening".*"port":"[0-9]+"' | grep -Eo '"port":"[0-9]+"' | grep -Eo '[0-9]+') || fail "gateway did not start"
[ "$(curl -sf "http://127.0.0.1:$port/healthz")" = '{"status":"ok"}' ] || fail "/healthz"
ok "serve answers /healthz"
# The idle-memory bound (BENCHMARKS.md, "HTTP server: memory") on a server after one request,
# its database made by an earlier run.
idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$gateway/status")
[ "$idle_kib" -le "${IDLE_RSS_LIMIT_KIB:-12288}" ] || fail "idle RSS $idle_kib KiB is over ${IDLE_RSS_LIMIT_KIB:-12288} KiB"
ok "idle RSS $((idle_kib / 1024)).$((idle_kib % 1024 * 10 / 1024)) MiB (at most 12 MiB)"

auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
answer=$(curl -s -w ' %{http_code}' "${auth[@]}" -d '{"domain":"Smoke.Example.COM."}' \
  "http://127.0.0.1:$port/v1/merchants/demo-merchant-2/controls/blocked-domains")
[[ "$answer" == *'"state":"succeeded"'*' 200' ]] || fail "add a blocked domain over TLS answered: $answer"
controls=$(curl -sf "${auth[@]}" "http://127.0.0.1:$port/v1/merchants/demo-merchant-2/controls")
[[ "$controls" == *'"smoke.example.com"'* ]] || fail "the domain is not in the controls: $controls"
ok "a write went through the gateway to the sandbox over TLS and is read back"

echo "rokt-gateway RSS after these requests: $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gateway/status")"
kill -TERM "$gateway"
status=0; wait "$gateway" || status=$?
[ "$status" -eq 0 ] || fail "SIGTERM: exit status $status"
ok "SIGTERM: graceful exit 0"
echo "smoke test: all $checks checks ok"
