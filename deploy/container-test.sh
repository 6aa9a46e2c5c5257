#!/usr/bin/env bash
# The container test, run by .ci/run: builds the image (deploy/image.sh) and runs it as it is
# meant to run: a read-only root, uid 65532, no capabilities, only the /data volume writable,
# secrets as files, against rokt-sandbox from the same image in a second container. Then:
# /healthz and /readyz answer; `rokt-gateway healthcheck` (the image's HEALTHCHECK) passes
# inside the container; under a CPU limit of one it runs one event loop; a write goes through
# the engine to the sandbox and the sandbox holds it; `podman stop` (SIGTERM) ends the gateway
# with exit code 0 within the stop timeout; the image is at most 40 MB and runs as 65532; then deploy/compose.yaml up, and its `replicas`
# profile parsed (its PostgreSQL and HAProxy images come from a registry) with
# deploy/haproxy/haproxy.cfg checked by `haproxy -c`. Removes every container, volume and image it made.
#
#   deploy/container-test.sh [BIN_DIR]   (BIN_DIR as for deploy/image.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/podman/podman.sh
export IMAGE=localhost/rokt-gateway:container-test-$$
name=rokt-gateway-test-$$
volume=$name-data
work=$(mktemp -d)
containers=()
checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
fail() {
  echo "container test FAILED: $*"
  for container in "${containers[@]}"; do
    echo "--- podman logs $container"
    podman logs "$container" 2>&1 | tail -n 50 || true
  done
  exit 1
}
compose=()
cleanup() {
  # Newest first (a gateway uses its sandbox's network namespace), with their anonymous volumes.
  for ((i = ${#containers[@]} - 1; i >= 0; i--)); do podman rm --force --volumes --time 0 "${containers[i]}" >/dev/null 2>&1 || true; done
  [ ${#compose[@]} -eq 0 ] || "${compose[@]}" down --volumes --timeout 0 >/dev/null 2>&1 || true
  podman volume rm --force "$volume" >/dev/null 2>&1 || true
  podman rmi --force "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# A free loopback port (the containers share the host's network: deploy/podman/containers.conf).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# waits up to 30 s for URL to answer 2xx; prints the body
wait_for_url() {
  for _ in $(seq 300); do curl -sf "$1" && return 0; sleep 0.1; done
  return 1
}

bin=${1:-$(deploy/build.sh | tail -1)}
deploy/image.sh "$bin" || fail "deploy/image.sh"
ok "image built"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
[ "$size" -le 40000000 ] || fail "the image is $size bytes, over 40 MB"
ok "image size $size bytes (at most 40 MB)"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[ "$user" = "65532:65532" ] || fail "the image's user is '$user', not 65532:65532"
healthcheck=$(podman image inspect --format '{{.Config.Healthcheck.Test}}' "$IMAGE")
[ "$healthcheck" = "[CMD /rokt-gateway healthcheck]" ] || fail "the image's healthcheck is '$healthcheck'"
ok "image runs as 65532:65532 with HEALTHCHECK /rokt-gateway healthcheck"

# Hardened as in deploy/compose.yaml and deploy/kubernetes/: nothing writable but the volume
# (not even the tmpfs mounts podman adds to a read-only root by default).
hardened=(--read-only --read-only-tmpfs=false --user 65532:65532 --cap-drop all --security-opt no-new-privileges)

sandbox_port=$(free_port)
containers+=("$name-sandbox")
# /rokt-sandbox: the image's link to its one binary.
podman run --detach --name "$name-sandbox" "${hardened[@]}" --no-healthcheck --entrypoint /rokt-sandbox "$IMAGE" \
  --port "$sandbox_port" >/dev/null 2>>"$work/podman.log" || fail "rokt-sandbox did not start: $(cat "$work/podman.log")"
wait_for_url "http://127.0.0.1:$sandbox_port/__sandbox/shapes" >/dev/null || fail "rokt-sandbox does not answer"
ok "rokt-sandbox serves from the image"

# The secrets as files, as compose and Kubernetes mount them (with the trailing newline an
# editor leaves). The API key is made by `keys create` in a container on the volume.
printf 'sandbox-token\n' >"$work/rokt_api_token"
chmod 0644 "$work/rokt_api_token"
podman volume create "$volume" >/dev/null
run_on_volume=(podman run --rm "${hardened[@]}" --volume "$volume:/data" "$IMAGE")
"${run_on_volume[@]}" migrate >"$work/migrate.log" 2>&1 || fail "migrate in a container: $(cat "$work/migrate.log")"
key=$("${run_on_volume[@]}" keys create --name container-test --scope read --scope write 2>"$work/keys.log" | tail -n 1)
[[ "$key" == rgw_* ]] || fail "keys create printed '$key': $(cat "$work/keys.log")"
ok "migrate and keys create on the volume, read-only root"

# In the sandbox's network namespace, as deploy/compose.yaml runs them (network_mode
# service:sandbox): Rokt over plain http:// is accepted only on loopback. With a CPU limit of one
# (a CFS quota, as Kubernetes' limits.cpu sets), so it must run one event loop, not one per core.
port=$(free_port)
containers+=("$name")
podman run --detach --name "$name" "${hardened[@]}" --cpus 1 --network "container:$name-sandbox" --volume "$volume:/data" \
  --volume "$work/rokt_api_token:/run/secrets/rokt_api_token:ro" \
  --env PORT="$port" --env LOG_FORMAT=json \
  --env ROKT_BASE_URL="http://127.0.0.1:$sandbox_port" --env ROKT_ECOMMERCE_BASE_URL="http://127.0.0.1:$sandbox_port" \
  --env ROKT_API_TOKEN_FILE=/run/secrets/rokt_api_token --env ROKT_PARENT_ACCOUNT_ID=demo-parent \
  "$IMAGE" >/dev/null 2>>"$work/podman.log" || fail "the gateway container did not start: $(cat "$work/podman.log")"
[ "$(wait_for_url "http://127.0.0.1:$port/healthz")" = '{"status":"ok"}' ] || fail "/healthz"
[ "$(wait_for_url "http://127.0.0.1:$port/readyz")" = '{"status":"ready"}' ] || fail "/readyz"
ok "/healthz and /readyz answer"
[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}' "$name")" = "true 65532:65532" ] ||
  fail "the container is not read-only as 65532: $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}' "$name")"
ok "the container runs as 65532:65532 on a read-only root"
listening=$(podman logs "$name" 2>&1 | grep '"msg":"listening"' || true)
[[ "$listening" == *'"eventLoops":"1"'* ]] || fail "with --cpus 1 the gateway should run 1 event loop: $listening"
ok "with --cpus 1 (a cgroup CPU quota) the gateway runs 1 event loop ($(nproc) cores on the host)"

podman exec "$name" /rokt-gateway healthcheck >"$work/healthcheck.log" 2>&1 || fail "healthcheck in the container: $(cat "$work/healthcheck.log")"
podman healthcheck run "$name" >>"$work/healthcheck.log" 2>&1 || fail "podman healthcheck run: $(cat "$work/healthcheck.log")"
ok "rokt-gateway healthcheck passes in the container ($(head -n 1 "$work/healthcheck.log"))"

# A host name through the static glibc's resolver (nsswitch.conf, then the hosts file), the token
# file, the schema and one read from the sandbox: check-config as an operator runs it.
podman exec --env ROKT_BASE_URL="http://localhost:$sandbox_port" "$name" /rokt-gateway check-config --probe-upstream \
  >"$work/check-config.log" 2>&1 || fail "check-config --probe-upstream in the container: $(cat "$work/check-config.log")"
grep -q "upstream http://localhost:$sandbox_port: ok" "$work/check-config.log" || fail "check-config: $(cat "$work/check-config.log")"
ok "check-config --probe-upstream in the container reaches http://localhost:$sandbox_port by name"

auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
answer=$(curl -s -w ' %{http_code}' "${auth[@]}" -d '{"partnerVerticalId":1555,"partnerSubVerticalId":1655}' \
  "http://127.0.0.1:$port/v1/merchants/demo-merchant-1/controls/blocked-verticals")
[[ "$answer" == *' 20'[02] ]] || fail "add a blocked vertical answered: $answer"
held=""
for _ in $(seq 100); do
  held=$(curl -sf "http://127.0.0.1:$sandbox_port/__sandbox/accounts/demo-merchant-1")
  [[ "$held" == *'1655'* ]] && break
  sleep 0.1
done
[[ "$held" == *'1655'* ]] || fail "the sandbox does not hold the blocked vertical: $held"
ok "a write went through the gateway's engine to the sandbox container"
curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics.txt" || fail "/metrics"
deploy/validate-manifests.sh "$work/metrics.txt" >"$work/rules.log" 2>&1 || fail "$(cat "$work/rules.log")"
ok "every metric deploy/prometheus-rules.yaml uses is in /metrics"

# The image's drain: /readyz fails for SHUTDOWN_DRAIN_SECONDS (5), then the server stops; the
# stop timeout is above drain + grace (10), as terminationGracePeriodSeconds is.
started=$(date +%s)
podman stop --time 20 "$name" >/dev/null 2>>"$work/podman.log" || fail "podman stop: $(cat "$work/podman.log")"
elapsed=$(($(date +%s) - started))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$exit_code" = 0 ] || fail "podman stop (SIGTERM): exit code $exit_code after $elapsed s"
[ "$elapsed" -lt 20 ] || fail "podman stop took $elapsed s: the container was killed"
podman logs "$name" 2>&1 | grep -q '"shutting down"' || fail "no drain in the gateway's log"
ok "podman stop (SIGTERM): drained, exit code 0 after $elapsed s"

# deploy/compose.yaml as a user starts it, with podman-compose: Debian 12's (1.0.3) does not know
# network_mode service:, so 1.6.0 from PyPI, in a virtual environment kept in the user's cache.
compose_tool=${XDG_CACHE_HOME:-$HOME/.cache}/rokt-gateway/podman-compose-1.6.0
if [ ! -x "$compose_tool/bin/podman-compose" ]; then
  if ! python3 -c 'import ensurepip' 2>/dev/null; then  # Debian's python3 makes venvs with python3-venv
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
  fi
  python3 -m venv "$compose_tool" && "$compose_tool/bin/pip" install -q podman-compose==1.6.0 ||
    fail "cannot install podman-compose 1.6.0 in $compose_tool"
fi
mkdir -p "$work/compose/secrets"
cp deploy/compose.yaml "$work/compose/"
printf 'sandbox-token\n' >"$work/compose/secrets/rokt_api_token"
printf 'rgw_compose-test-%s\n' "$(openssl rand -hex 16)" >"$work/compose/secrets/gateway_bootstrap_api_key"
chmod 0644 "$work/compose/secrets/"*
compose_port=$(free_port)
compose=(env GATEWAY_IMAGE="$IMAGE" GATEWAY_PORT="$compose_port" "$compose_tool/bin/podman-compose"
  --project-name "$name-compose" --file "$work/compose/compose.yaml")
"${compose[@]}" up --detach >"$work/compose.log" 2>&1 || fail "compose up: $(cat "$work/compose.log")"
containers+=("$name-compose_sandbox_1" "$name-compose_gateway_1")
[ "$(wait_for_url "http://127.0.0.1:$compose_port/readyz")" = '{"status":"ready"}' ] || fail "compose: /readyz on $compose_port"
podman healthcheck run "$name-compose_gateway_1" >"$work/healthcheck.log" 2>&1 || fail "compose: healthcheck: $(cat "$work/healthcheck.log")"
podman exec "$name-compose_gateway_1" /rokt-gateway check-config --probe-upstream >"$work/check-config.log" 2>&1 ||
  fail "compose: check-config --probe-upstream: $(cat "$work/check-config.log")"
compose_key=$(cat "$work/compose/secrets/gateway_bootstrap_api_key")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $compose_key" "http://127.0.0.1:$compose_port/v1/merchants/demo-merchant-1/controls")" = 200 ] || fail "compose: the bootstrap key file was not used"
"${compose[@]}" stop >>"$work/compose.log" 2>&1 || fail "compose stop: $(cat "$work/compose.log")"
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name-compose_gateway_1")
[ "$exit_code" = 0 ] || fail "compose stop: the gateway's exit code is $exit_code"
ok "deploy/compose.yaml: up, /readyz on the published port, healthy, secrets read, Rokt reached, stop exits 0"

# The `replicas` profile pulls PostgreSQL's and HAProxy's images from a registry, which CI does
# not reach: compose parses it (deploy/validate-manifests.sh checks what it says) and HAProxy
# reads its configuration (the replicas' names resolve only inside compose: nothing else may warn).
printf 'compose-test\n' >"$work/compose/secrets/database_password"
mkdir -p "$work/compose/haproxy"
cp deploy/haproxy/haproxy.cfg "$work/compose/haproxy/"
"${compose[@]}" --profile replicas config >"$work/replicas.yaml" 2>"$work/replicas.log" ||
  fail "compose --profile replicas config: $(cat "$work/replicas.log")"
services=$(python3 -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["services"])))' "$work/replicas.yaml")
[ "$services" = "gateway gateway-1 gateway-2 gateway-3 haproxy postgres sandbox" ] || fail "compose --profile replicas: services $services"
if ! command -v haproxy >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy >&2
fi
haproxy -c -f deploy/haproxy/haproxy.cfg >"$work/haproxy.log" 2>&1 || fail "haproxy -c: $(cat "$work/haproxy.log")"
! grep WARNING "$work/haproxy.log" | grep -v "could not resolve address 'sandbox'" || fail "haproxy -c warns: $(cat "$work/haproxy.log")"
ok "deploy/compose.yaml --profile replicas parses (PostgreSQL, 3 replicas, HAProxy); haproxy -c accepts deploy/haproxy/haproxy.cfg"

echo "container test: all $checks checks ok"
