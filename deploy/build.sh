#!/usr/bin/env bash
# The binaries we ship: release builds of rokt-gateway and rokt-sandbox, each one
# static PIE (the Swift runtime, Foundation, SQLite, OpenSSL and glibc linked in; ASLR kept),
# linked by lld with packed relative relocations (DT_RELR) and, for the gateway, its hot code
# laid out first (deploy/rokt-gateway.order). Prints the products directory as its last line.
# At run time they need only the kernel, /etc (hosts, resolv.conf, nsswitch.conf) and CA
# certificates; see docs/operations.md, "The release binary".
#
#   deploy/build.sh [extra swift build arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --scratch-path .build-static
  # glibc's static-PIE start-up asserts that there is no RUNPATH; SwiftPM adds $ORIGIN unless told.
  --disable-local-rpath
  -Xswiftc -static-executable -Xswiftc -Xclang-linker -Xswiftc -static-pie
  -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
# `rokt-gateway --version` names the revision it was built from (GatewayVersion.revision).
revision=$(git describe --tags --always --dirty 2>/dev/null || true)
[ -z "$revision" ] || flags+=(-Xcc "-DCLINUX_SOURCE_REVISION=\"$revision\"")
# The code a gateway runs to idle first, then what serving adds (deploy/order-file.sh makes it).
order=(-Xlinker --symbol-ordering-file="$PWD/deploy/rokt-gateway.order" -Xlinker --no-warn-symbol-ordering)
# SwiftPM does not track the order file: an older binary is removed so that a new order is linked.
products=$(swift build "${flags[@]}" --show-bin-path)
[ ! deploy/rokt-gateway.order -nt "$products/rokt-gateway" ] || rm -f "$products/rokt-gateway"
swift build "${flags[@]}" "${order[@]}" --product rokt-gateway "$@" >&2
swift build "${flags[@]}" --product rokt-sandbox "$@" >&2
swift build "${flags[@]}" --show-bin-path
