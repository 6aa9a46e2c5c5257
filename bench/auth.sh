#!/usr/bin/env bash
# What authenticating a caller costs per request: GET /v1/operations?limit=1 (a store read, no
# call to Rokt) on `serve --sandbox` under wrk, with the sandbox's API key (per-caller limits off,
# then on), and with user tokens signed RS256, PS256, ES256 and EdDSA by PyJWT, verified against
# AUTH_JWKS_FILE. Every round runs each case once, interleaved; prints requests/s and p99 per case
# and round, then the medians.
#
#   bench/auth.sh [rounds=3] [seconds=8] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-8}
CONNECTIONS=${3:-32}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
python3 -c 'import jwt, cryptography' 2>/dev/null || python3 -m pip install -q pyjwt cryptography
BIN_DIR=${BIN_DIR:-$(deploy/build.sh | tail -1)}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# One key per algorithm, the JWK Set the gateway reads, and one long-lived token per key.
python3 - "$work" <<'PY'
import json, sys, time, jwt
from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519
work = sys.argv[1]
keys = {"RS256": (rsa.generate_private_key(65537, 2048), RSAAlgorithm), "PS256": (rsa.generate_private_key(65537, 2048), RSAAlgorithm),
        "ES256": (ec.generate_private_key(ec.SECP256R1()), ECAlgorithm), "EdDSA": (ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm)}
now = int(time.time())
claims = {"iss": "https://issuer.bench", "aud": "rokt-gateway", "sub": "bench-user", "scope": "read", "merchant_ids": "*", "iat": now, "exp": now + 86400}
jwks, tokens = [], {}
for alg, (private, algorithm) in keys.items():
    jwk = json.loads(algorithm.to_jwk(private.public_key()))
    jwk.update(kid=alg.lower(), use="sig", alg=alg)
    jwks.append(jwk)
    tokens[alg] = jwt.encode(claims, private, algorithm=alg, headers={"kid": alg.lower()})
json.dump({"keys": jwks}, open(f"{work}/jwks.json", "w"))
with open(f"{work}/tokens", "w") as out:
    for alg, token in tokens.items(): out.write(f"{alg} {token}\n")
PY

# Two gateways, both verifying tokens: one with the per-caller limits off, one with them on (rates
# so high that nothing is refused: the cost of the accounting, not of 429s).
start() {  # name port [VAR=value…]
  local name=$1 port=$2
  shift 2
  env "$@" PORT="$port" DATABASE_PATH="$work/$name.sqlite3" LOG_LEVEL=warn AUTH_ISSUER=https://issuer.bench \
    AUTH_AUDIENCE=rokt-gateway AUTH_JWKS_FILE="$work/jwks.json" AUTH_ALL_MERCHANTS_VALUE='*' \
    "$BIN_DIR/rokt-gateway" serve --sandbox >"$work/$name.txt" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "$name did not start:"; cat "$work/$name.txt"; exit 1
}
start limits-off 18191 RATE_LIMIT_ENABLED=false
start limits-on 18192 RATE_LIMIT_ENABLED=true RATE_LIMIT_READ_PER_SECOND=1000000 RATE_LIMIT_READ_BURST=1000000
key=rgw_sandbox_demo_key

cases=("api-key 18191 $key" "api-key+limits 18192 $key")
while read -r alg token; do cases+=("$alg 18191 $token"); done <"$work/tokens"
run() {  # port credential -> "requests/s p99"
  curl -sf -H "Authorization: Bearer $2" "http://127.0.0.1:$1/v1/operations?limit=1" >/dev/null || { echo "refused"; return; }
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $2" "http://127.0.0.1:$1/v1/operations?limit=1" \
    | awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {print rps, p99}'
}
for round in $(seq "$ROUNDS"); do
  for entry in "${cases[@]}"; do
    read -r name port credential <<<"$entry"
    echo "round $round $name $(run "$port" "$credential")" | tee -a "$work/results"
  done
done
echo "medians over $ROUNDS rounds (requests/s, p99), $CONNECTIONS connections, ${SECONDS_PER_RUN}s each:"
for entry in "${cases[@]}"; do
  read -r name _ _ <<<"$entry"
  awk -v name="$name" '$3 == name {print $4, $5}' "$work/results" | sort -n | awk -v name="$name" '
    {rps[NR]=$1; p99[NR]=$2} END {m=int((NR+1)/2); printf "  %-15s %10s req/s   p99 %s (of the median run)\n", name, rps[m], p99[m]}'
done
