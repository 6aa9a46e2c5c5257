# Sourced by deploy/image.sh and deploy/container-test.sh: podman (installed from Debian when
# missing, as .ci/run installs its libraries) with this directory's containers.conf and
# storage.conf. No registry is needed: the image is FROM scratch.
podman_settings=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF="$podman_settings/containers.conf" CONTAINERS_STORAGE_CONF="$podman_settings/storage.conf"
podman_need=()
command -v podman >/dev/null 2>&1 || podman_need+=(podman)
command -v runc >/dev/null 2>&1 || podman_need+=(runc)
[ -f /etc/ssl/certs/ca-certificates.crt ] || podman_need+=(ca-certificates)
if [ ${#podman_need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${podman_need[@]}" >&2
fi
