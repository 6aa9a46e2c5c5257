# Sourced (not run) by deploy/smoke-test.sh and deploy/order-file.sh: the shipped binaries
# (`$bin`), a scratch directory (`$work`) and the processes started (`pids`), all cleaned up
# when the script exits; a wait on a growing log; the sandbox on a free loopback port.
bin=$(deploy/build.sh | tail -1)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# wait_for FILE PATTERN: prints the first match of an extended regex in a growing log; fails
# after 20 s.
wait_for() {
  for _ in $(seq 200); do
    if match=$(grep -Eo "$2" "$1" 2>/dev/null | head -1) && [ -n "$match" ]; then echo "$match"; return 0; fi
    sleep 0.1
  done
  return 1
}

# start_sandbox: rokt-sandbox with its demo seed on a free port; sets `sandbox_port`. Called
# directly, not in `$(…)`, so that its pid reaches `pids` (and the cleanup).
start_sandbox() {
  "$bin/rokt-sandbox" --port 0 >"$work/sandbox.log" 2>&1 &
  pids+=($!)
  sandbox_port=$(wait_for "$work/sandbox.log" 'listening on http://127\.0\.0\.1:[0-9]+' | grep -Eo '[0-9]+$')
}
