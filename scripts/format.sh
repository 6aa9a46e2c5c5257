#!/usr/bin/env bash
# Formats the Swift sources with `swift format` (it ships with the toolchain) and the
# repository's .swift-format. The generated Sources/Gateway/Generated/ is left as generated.
#
#   scripts/format.sh           # rewrites the files in place
#   scripts/format.sh --check   # changes nothing; lists the files that differ, exits 1 if any does
set -euo pipefail
cd "$(dirname "$0")/.."

files=()
while IFS= read -r -d '' file; do files+=("$file"); done < <(
  find Package.swift Sources Tests fuzz -name '*.swift' -not -path 'Sources/Gateway/Generated/*' -print0 | sort -z)

case "${1:-}" in
  "")
    swift format format --configuration .swift-format --in-place --parallel "${files[@]}"
    ;;
  --check)
    # Format a copy and compare: "is each file what the formatter writes" (`swift format lint`
    # would also fail on rule findings the formatter cannot fix).
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT
    printf '%s\0' "${files[@]}" | xargs -0 cp --parents -t "$copy"
    (cd "$copy" && swift format format --configuration "$OLDPWD/.swift-format" --in-place --parallel "${files[@]}")
    status=0
    for file in "${files[@]}"; do
      cmp -s "$file" "$copy/$file" || { echo "not formatted: $file (run scripts/format.sh)"; status=1; }
    done
    exit "$status"
    ;;
  *)
    echo "usage: scripts/format.sh [--check]" >&2
    exit 2
    ;;
esac
