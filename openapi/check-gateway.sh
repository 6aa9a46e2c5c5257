#!/usr/bin/env bash
# Checks the running gateway against openapi/gateway.yaml with schemathesis (PyPI): builds,
# starts `rokt-gateway serve --sandbox` on a free loopback port with a throwaway database,
# and runs a bounded number of generated requests per operation. Fails on any 5xx, any
# response that violates the spec (body schema, status code, content type, headers).
# Slow (a minute or more), so it is not part of `swift test`.
#
#   openapi/check-gateway.sh            # MAX_EXAMPLES=20 per operation
#   MAX_EXAMPLES=100 openapi/check-gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_EXAMPLES="${MAX_EXAMPLES:-20}"

command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q schemathesis
swift build --product rokt-gateway
binary="$(swift build --show-bin-path)/rokt-gateway"

workdir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
PORT="$port" DATABASE_PATH="$workdir/gateway.sqlite3" LOG_LEVEL=warn "$binary" serve --sandbox >"$workdir/gateway.log" 2>&1 &
gateway_pid=$!
cleanup() { kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$workdir/gateway.log"; exit 1; }
  sleep 0.1
done

# The spec declares the key once (apiKey); the demo key of sandbox mode has every scope.
schemathesis run openapi/gateway.yaml \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer rgw_sandbox_demo_key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 30 \
  "$@"
status=$?
grep -q '"level":"error"' "$workdir/gateway.log" && { echo "gateway logged errors:"; grep '"level":"error"' "$workdir/gateway.log" | head -20; }
exit $status
