#!/usr/bin/env bash
# Offline checks of the deployment files, run by .ci/run:
# - deploy/kubernetes/: every resource of the kustomization against Kubernetes 1.37's schemas
#   (kubernetes-validate from PyPI, strict: an unknown field fails), then the rules the gateway
#   needs of them (one replica, Recreate, the grace period above drain + grace, the hardening,
#   the names they refer to each other by);
# - deploy/compose.yaml: the same rules for compose, and that it matches deploy/Containerfile;
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

resources=$(python3 -c '
import yaml
for name in yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))["resources"]:
    print("deploy/kubernetes/" + name)')
# shellcheck disable=SC2086 # one path a line, no spaces
kubernetes-validate --kubernetes-version "$kubernetes_version" --strict --quiet $resources
echo "ok - deploy/kubernetes/ is valid for Kubernetes $kubernetes_version (strict)"

python3 - "${1:-}" <<'PYTHON'
import re, sys, yaml

failures = []
def check(condition, message):
    if not condition:
        failures.append(message)

def load(path):
    with open(path) as f:
        return list(yaml.safe_load_all(f))

# --- Kubernetes -----------------------------------------------------------------------------
kustomization = load("deploy/kubernetes/kustomization.yaml")[0]
objects = {}
for name in kustomization["resources"]:
    for document in load("deploy/kubernetes/" + name):
        objects[(document["kind"], document["metadata"]["name"])] = document
check("namespace" not in kustomization and all("namespace" not in o["metadata"] for o in objects.values()),
      "kubernetes: the manifests set a namespace")
deployment = objects[("Deployment", "rokt-gateway")]
spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
check(spec["replicas"] == 1, "kubernetes: replicas must be 1 (one process per SQLite file)")
check(spec["strategy"] == {"type": "Recreate"}, "kubernetes: the strategy must be Recreate")
check(spec["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items(),
      "kubernetes: the selector does not match the pod's labels")
config = objects[("ConfigMap", "rokt-gateway")]["data"]
drain, grace = int(config["SHUTDOWN_DRAIN_SECONDS"]), int(config["SHUTDOWN_GRACE_SECONDS"])
check(pod["terminationGracePeriodSeconds"] > drain + grace,
      f"kubernetes: terminationGracePeriodSeconds must be above drain + grace ({drain} + {grace})")
security = pod["securityContext"]
check(security.get("runAsNonRoot") is True and security.get("runAsUser") == 65532 and security.get("fsGroup") == 65532,
      "kubernetes: the pod must run as non-root 65532 with fsGroup 65532")
check(security.get("seccompProfile") == {"type": "RuntimeDefault"}, "kubernetes: seccompProfile must be RuntimeDefault")
(container,) = pod["containers"]
hardening = container["securityContext"]
check(hardening.get("readOnlyRootFilesystem") is True, "kubernetes: the root filesystem must be read-only")
check(hardening.get("allowPrivilegeEscalation") is False, "kubernetes: allowPrivilegeEscalation must be false")
check(hardening.get("capabilities") == {"drop": ["ALL"]}, "kubernetes: capabilities must drop ALL")
check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "kubernetes: liveness must probe /healthz")
check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "kubernetes: readiness must probe /readyz")
check("startupProbe" in container, "kubernetes: a startupProbe must cover migrations")
check({"requests", "limits"} <= container["resources"].keys(), "kubernetes: resources need requests and limits")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
check(ports.get("http") == int(config["PORT"]), "kubernetes: the container port is not the ConfigMap's PORT")
for source in container.get("envFrom", []):
    check(("ConfigMap", source["configMapRef"]["name"]) in objects, f"kubernetes: no ConfigMap {source}")
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
check(mounts.get("data") == "/data" and config["DATABASE_PATH"].startswith("/data/"),
      "kubernetes: DATABASE_PATH must be on the volume mounted at /data")
claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
check(("PersistentVolumeClaim", claim) in objects, f"kubernetes: no PersistentVolumeClaim {claim}")
check(objects.get(("PersistentVolumeClaim", claim), {}).get("spec", {}).get("accessModes") == ["ReadWriteOnce"],
      "kubernetes: the claim must be ReadWriteOnce")
secret_name = volumes["secrets"]["secret"]["secretName"]
secret = objects.get(("Secret", secret_name), {})
env = {e["name"]: e.get("value") for e in container.get("env", [])}
for variable in ("ROKT_API_TOKEN_FILE", "GATEWAY_BOOTSTRAP_API_KEY_FILE"):
    check(variable in env, f"kubernetes: {variable} is not set")
for variable, path in env.items():
    if variable.endswith("_FILE"):
        directory, _, key = path.rpartition("/")
        check(directory == mounts["secrets"] and key in secret.get("stringData", {}),
              f"kubernetes: {variable}={path} is not a key of the Secret {secret_name}")
service = objects[("Service", "rokt-gateway")]
check(service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items(),
      "kubernetes: the Service's selector does not match the pod")
check(all(p["targetPort"] in ports for p in service["spec"]["ports"]), "kubernetes: the Service targets an unknown port")

# --- compose --------------------------------------------------------------------------------
containerfile = open("deploy/Containerfile").read()
compose = load("deploy/compose.yaml")[0]
services = compose["services"]
check({"gateway", "sandbox"} <= services.keys(), "compose: the gateway and sandbox services are missing")
for name, service in services.items():
    check(service.get("image") == "${GATEWAY_IMAGE:-localhost/rokt-gateway:latest}", f"compose: {name} is not deploy/image.sh's image")
    check(service.get("read_only") is True and service.get("user") == "65532:65532",
          f"compose: {name} must run read-only as 65532:65532")
gateway = services["gateway"]
environment = gateway["environment"]
for variable in ("ROKT_API_TOKEN_FILE", "GATEWAY_BOOTSTRAP_API_KEY_FILE"):
    check(variable in environment, f"compose: {variable} is not set")
for variable, path in environment.items():
    if variable.endswith("_FILE"):
        secret = path.removeprefix("/run/secrets/")
        check(secret in gateway["secrets"] and secret in compose["secrets"],
              f"compose: {variable}={path} is not a secret of the gateway")
check(gateway["volumes"] == ["gateway-data:/data"] and environment["DATABASE_PATH"].startswith("/data/"),
      "compose: the database must be on the gateway-data volume at /data")
test = gateway["healthcheck"]["test"]
check('CMD ' + str(test[1:]).replace("'", '"') in containerfile,
      f"compose: the healthcheck {test} is not the Containerfile's")
seconds = lambda text: int(re.fullmatch(r"(\d+)s", text).group(1))
check(seconds(gateway["stop_grace_period"]) > drain + grace, "compose: stop_grace_period must be above drain + grace")

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

for failure in failures:
    print("FAILED - " + failure)
if failures:
    sys.exit(1)
print(f"ok - deploy/kubernetes/ keeps one hardened replica; deploy/compose.yaml matches the image; "
      f"{len(seen)} alerting rules well formed" + (f", their {len(used)} metrics exposed" if sys.argv[1] else ""))
PYTHON
