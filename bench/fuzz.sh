#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   bench/fuzz.sh [seconds-per-target] [target…]      default: 60 s, every target
#
# Targets are fuzz/targets/<Name>.swift (plus FuzzSupport.swift); seeds are fuzz/corpus/<Name>/.
# Each target is built straight with swiftc against the JSON and HTTP modules' sources (each
# compiled once, instrumented, into .build/fuzz/lib); new corpus entries, crash/leak/timeout
# inputs and logs go to .build/fuzz/ (FUZZ_WORK to move it), never into the repo.
# Prints per target: executions, exec/s, coverage, corpus size, findings. Exits non-zero when a
# target crashed, broke an invariant, leaked, hung (-timeout) or ran out of memory.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
all=(RequestParser ResponseParser ChunkedDecoder JSONParser RouterPaths AddressClass PostgresMessages JWTTokens)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
work=${FUZZ_WORK:-.build/fuzz}
timeout_s=${FUZZ_TIMEOUT:-10}      # one input slower than this is a hang
rss_mb=${FUZZ_RSS_MB:-2048}
max_len=${FUZZ_MAX_LEN:-4096}
swiftc=${SWIFTC:-swiftc}
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)
mkdir -p "$work/lib" "$work/bin"

newer_than() {  # newer_than FILE SOURCES… : true when FILE is missing or older than a source
  [ -e "$1" ] || return 0
  local out=$1; shift
  for s in "$@"; do [ "$s" -nt "$out" ] && return 0; done
  return 1
}

json_sources=(Sources/JSON/*.swift)
http_sources=(Sources/HTTP/*.swift)
mapfile -t postgres_sources < <(find Sources/Postgres -name '*.swift' | sort)
jwt_sources=(Sources/JWT/*.swift)
needs_http=0 needs_json=0 needs_postgres=0 needs_jwt=0
for name in "${targets[@]}"; do
  case $name in
    AddressClass) ;;
    JSONParser) needs_json=1 ;;
    PostgresMessages) needs_postgres=1 needs_http=1 needs_json=1 ;;  # the Postgres module may import both
    JWTTokens) needs_jwt=1 needs_json=1 ;;
    *) needs_http=1 needs_json=1 ;;  # the HTTP module imports JSON
  esac
done
if [ $needs_json = 1 ] && newer_than "$work/lib/libJSON.a" "${json_sources[@]}"; then
  echo "building the instrumented JSON module…"
  "$swiftc" "${flags[@]}" -emit-library -static -emit-module -module-name JSON -enable-testing -wmo \
    "${json_sources[@]}" -emit-module-path "$work/lib/JSON.swiftmodule" -o "$work/lib/libJSON.a"
fi
if [ $needs_http = 1 ] && newer_than "$work/lib/libHTTP.a" "${http_sources[@]}" "$work/lib/libJSON.a"; then
  echo "building the instrumented HTTP module…"
  "$swiftc" "${flags[@]}" -emit-library -static -emit-module -module-name HTTP -enable-testing -wmo \
    -I "$work/lib" -I Sources/CLinux -I Sources/COpenSSL "${http_sources[@]}" \
    -emit-module-path "$work/lib/HTTP.swiftmodule" -o "$work/lib/libHTTP.a"
fi
if [ $needs_postgres = 1 ] && newer_than "$work/lib/libPostgres.a" "${postgres_sources[@]}" "$work/lib/libHTTP.a"; then
  echo "building the instrumented Postgres module…"
  "$swiftc" "${flags[@]}" -emit-library -static -emit-module -module-name Postgres -enable-testing -wmo \
    -I "$work/lib" -I Sources/CLinux -I Sources/COpenSSL "${postgres_sources[@]}" \
    -emit-module-path "$work/lib/Postgres.swiftmodule" -o "$work/lib/libPostgres.a"
fi
if [ $needs_jwt = 1 ] && newer_than "$work/lib/libJWT.a" "${jwt_sources[@]}" "$work/lib/libJSON.a"; then
  echo "building the instrumented JWT module…"
  "$swiftc" "${flags[@]}" -emit-library -static -emit-module -module-name JWT -enable-testing -wmo \
    -I "$work/lib" -I Sources/COpenSSL "${jwt_sources[@]}" \
    -emit-module-path "$work/lib/JWT.swiftmodule" -o "$work/lib/libJWT.a"
fi

build() {
  local name=$1 out="$work/bin/$1"
  local sources=(fuzz/targets/FuzzSupport.swift "fuzz/targets/$name.swift")
  local link=(-I "$work/lib" -I Sources/CLinux -I Sources/COpenSSL -L "$work/lib" -lHTTP -lJSON -lssl -lcrypto)
  local libs=("$work/lib/libHTTP.a" "$work/lib/libJSON.a")
  case $name in
    AddressClass) sources+=(Sources/Gateway/Webhooks/NetworkAddressClass.swift); link=(); libs=() ;;
    JSONParser) link=(-I "$work/lib" -L "$work/lib" -lJSON); libs=("$work/lib/libJSON.a") ;;
    PostgresMessages) link=(-lPostgres "${link[@]}"); libs+=("$work/lib/libPostgres.a") ;;
    JWTTokens) link=(-I "$work/lib" -I Sources/COpenSSL -L "$work/lib" -lJWT -lJSON -lssl -lcrypto); libs=("$work/lib/libJWT.a" "$work/lib/libJSON.a") ;;
  esac
  if newer_than "$out" "${sources[@]}" ${libs[@]+"${libs[@]}"}; then
    echo "building $name…"
    # ld.gold warns once per ASan helper symbol it cannot export: noise, filtered.
    "$swiftc" "${flags[@]}" -module-name "Fuzz$name" "${sources[@]}" "${link[@]}" -o "$out" 2> >(grep -v 'Cannot export local symbol' >&2)
  fi
}

for name in "${targets[@]}"; do
  [ -f "fuzz/targets/$name.swift" ] || { echo "no target fuzz/targets/$name.swift" >&2; exit 2; }
  build "$name"
done

failed=0
summary=()
for name in "${targets[@]}"; do
  corpus="$work/corpus/$name" artifacts="$work/artifacts/$name/" log="$work/$name.log"
  mkdir -p "$corpus" "$artifacts" "fuzz/corpus/$name"
  rm -f "$artifacts"*
  cmd=("$work/bin/$name" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss_mb"
       -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "fuzz/corpus/$name")
  echo "== $name: ${cmd[*]}"
  started=$(date +%s)
  set +e
  # The Swift runtime's backtracer would race ASan's report; libFuzzer prints the stack itself.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "${cmd[@]}" >"$log" 2>&1
  status=$?
  set -e
  ran=$(( $(date +%s) - started ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(ls "$corpus" | wc -l)
  findings=$(ls "$artifacts" 2>/dev/null | tr '\n' ' ')
  if [ $status -ne 0 ] || [ -n "$findings" ]; then
    failed=1
    echo "!! $name exited $status; findings: ${findings:-none saved}; log $log"
    grep -E 'ERROR|invariant broken|Fatal error|SUMMARY|leak' "$log" | head -8 || true
  fi
  line=$(printf '%-15s %4ss of %ss  execs %-10s exec/s %-7s cov %-5s ft %-6s corpus %-5s findings %s' \
    "$name" "$ran" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "${findings:-none}")
  echo "$line"
  summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $failed
