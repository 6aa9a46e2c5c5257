#!/usr/bin/env bash
# Builds the gateway's container image from deploy/Containerfile with podman (Debian's package,
# installed when missing; deploy/podman/ holds the settings) and prints its id and size. The
# image is FROM scratch, so no registry is needed: the build context, made here in a temporary
# directory, is all there is in it.
#
#   deploy/image.sh [BIN_DIR]
#
# BIN_DIR holds rokt-gateway as deploy/build.sh makes it (it runs deploy/build.sh when not
# given; that is quick when its build is up to date). The image gets it stripped of its symbol
# tables (keep BIN_DIR's copy to symbolize a crash address), and as /rokt-sandbox too. IMAGE
# names the image (default localhost/rokt-gateway:latest).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/podman/podman.sh
bin=${1:-$(deploy/build.sh | tail -1)}
image=${IMAGE:-localhost/rokt-gateway:latest}

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
root=$context/rootfs
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$context/volume/data"
strip --strip-all -o "$root/rokt-gateway" "$bin/rokt-gateway"
chmod 0755 "$root/rokt-gateway"
ln -s rokt-gateway "$root/rokt-sandbox"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
# Made here, not kept in the repository; no password anywhere ("x": a shadow file that does not
# exist). root is named so that tools mapping uid 0 to a name find one.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
chmod 0644 "$root"/etc/passwd "$root"/etc/group "$root"/etc/nsswitch.conf "$root"/etc/hosts
chmod 0755 "$root" "$root/etc" "$root/etc/ssl" "$root/etc/ssl/certs"
chmod 1777 "$root/tmp"
chmod 0700 "$context/volume/data"

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
podman build --quiet --format docker --file deploy/Containerfile --tag "$image" \
  --label org.opencontainers.image.title=rokt-gateway \
  --label org.opencontainers.image.revision="$revision" \
  --label org.opencontainers.image.version="$("$bin/rokt-gateway" --version | head -1 | cut -d' ' -f2)" \
  "$context" >/dev/null
# The store is this project's alone (deploy/podman/storage.conf): drop the image a rebuild untagged.
podman image prune --force >/dev/null
read -r id size < <(podman image inspect --format '{{.Id}} {{.Size}}' "$image")
echo "image $image"
echo "id $id"
echo "size $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1000000 }'))"
