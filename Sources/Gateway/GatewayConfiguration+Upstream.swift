import Rokt

extension UpstreamProtectionSettings {
    /// The gateway's defaults toward Rokt (README "Protecting Rokt"): 50 calls per second with a
    /// burst of 50, 16 in flight, a caller waits at most 5 s for its turn; the circuit opens after
    /// 5 failed calls in a row for 10 s, then 3 probes; a 429's `Retry-After` pauses every call for at most 60 s.
    public static let gatewayDefaults = UpstreamProtectionSettings(
        limits: UpstreamLimits(requestsPerSecond: 50, burst: 50, maxConcurrent: 16, maxWait: .seconds(5)),
        breaker: CircuitBreakerSettings(failureThreshold: 5, openDuration: .seconds(10), halfOpenProbes: 3),
        maxPause: .seconds(60))
}

extension GatewayConfiguration {
    /// ROKT_MAX_* , ROKT_CIRCUIT_* and ROKT_RETRY_BUDGET_*: the bounds the gateway keeps toward Rokt,
    /// each a whole number within bounds, refused by name when not. 0 turns the rate limit, the
    /// concurrency bound, the breaker or the retry budget off.
    static func readUpstream(into configuration: inout GatewayConfiguration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        var settings = configuration.upstream
        if let rate = try reader.integer("ROKT_MAX_REQUESTS_PER_SECOND", 0...100_000, "calls per second (0: no limit)") {
            settings.limits.requestsPerSecond = Double(rate)
            settings.limits.burst = max(1, rate)
        }
        if let burst = try reader.integer("ROKT_MAX_BURST", 1...100_000, "a number of calls") {
            guard settings.limits.requestsPerSecond > 0 else {
                throw ConfigurationError(variable: "ROKT_MAX_BURST", message: "needs a rate limit (ROKT_MAX_REQUESTS_PER_SECOND is 0)")
            }
            settings.limits.burst = burst
        }
        if let count = try reader.integer("ROKT_MAX_CONCURRENT_REQUESTS", 0...10_000, "a number (0: no limit)") { settings.limits.maxConcurrent = count }
        if let ms = try reader.integer("ROKT_MAX_QUEUE_WAIT_MS", 0...600_000, "milliseconds") { settings.limits.maxWait = .milliseconds(ms) }
        if let count = try reader.integer("ROKT_CIRCUIT_FAILURE_THRESHOLD", 0...10_000, "a number of failed calls (0: no breaker)") {
            settings.breaker.failureThreshold = count
        }
        if let seconds = try reader.seconds("ROKT_CIRCUIT_OPEN_SECONDS", 0.01...3600) { settings.breaker.openDuration = seconds }
        if let count = try reader.integer("ROKT_CIRCUIT_HALF_OPEN_PROBES", 1...1000, "a number") { settings.breaker.halfOpenProbes = count }
        if let seconds = try reader.integer("ROKT_MAX_RETRY_AFTER_SECONDS", 0...3600, "seconds (0: never pause)") { settings.maxPause = .seconds(seconds) }
        configuration.upstream = settings

        var budget = configuration.engine.retryBudget
        if let percent = try reader.integer("ROKT_RETRY_BUDGET_PERCENT", 0...1000, "a percentage (0: no budget)") { budget.percent = percent }
        if let count = try reader.integer("ROKT_RETRY_BUDGET_MIN_RETRIES", 0...1_000_000, "a number of retries per window") {
            budget.minimumPerWindow = count
        }
        if let seconds = try reader.integer("ROKT_RETRY_BUDGET_WINDOW_SECONDS", 1...3600, "seconds") { budget.window = .seconds(seconds) }
        configuration.engine.retryBudget = budget
    }
}
