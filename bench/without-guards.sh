# Sourced by the benchmarks: they measure the gateway, not its guards. One key's load would be
# refused by the per-caller limits, and the outbound limits would cap the calls to the sandbox
# (README, "Rate limits" and "Protecting Rokt"). Set these variables to measure with them on.
export RATE_LIMIT_ENABLED=${RATE_LIMIT_ENABLED:-false} ROKT_MAX_REQUESTS_PER_SECOND=${ROKT_MAX_REQUESTS_PER_SECOND:-0} \
  ROKT_MAX_CONCURRENT_REQUESTS=${ROKT_MAX_CONCURRENT_REQUESTS:-0}
