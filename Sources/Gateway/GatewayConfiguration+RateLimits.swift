/// The limits on the gateway's own callers (RATE_LIMIT_*; README.md, "Rate limits"). Every limit
/// holds per replica: behind a balancer spreading a caller over N replicas, the caller gets up
/// to N times each rate.
public struct RateLimitConfiguration: Sendable, Equatable {
    /// RATE_LIMIT_ENABLED (default true); false limits nothing and sends no RateLimit fields.
    public var enabled = true
    /// RATE_LIMIT_MAX_PARTITIONS: budgets held in memory at most (`RateLimitTable` says which go first).
    public var maxPartitions = 100_000
    /// Per class; nil turns that class's limit off (its rate set to `off` or `0`).
    public var read: RateLimitPolicy? = RateLimitPolicy(.read, perSecond: 50, burst: 100)
    public var write: RateLimitPolicy? = RateLimitPolicy(.write, perSecond: 10, burst: 50)
    public var placements: RateLimitPolicy? = RateLimitPolicy(.placements, perSecond: 50, burst: 100)

    public init() {}

    public func policy(_ limitClass: RateLimitClass) -> RateLimitPolicy? {
        switch limitClass {
        case .read: read
        case .write: write
        case .placements: placements
        }
    }

    static let rates: ClosedRange<Double> = 0.01...1_000_000
    static let bursts: ClosedRange<Int> = 1...1_000_000
}

extension GatewayConfiguration {
    /// RATE_LIMIT_ENABLED, RATE_LIMIT_MAX_PARTITIONS and, per class (READ, WRITE, PLACEMENTS),
    /// RATE_LIMIT_<CLASS>_PER_SECOND (a number from 0.01, or `off`/`0` for no limit) and
    /// RATE_LIMIT_<CLASS>_BURST (a whole number from 1). Each malformed value is refused by name.
    static func readRateLimits(into limits: inout RateLimitConfiguration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        if let raw = reader.value("RATE_LIMIT_ENABLED") {
            guard let flag = Bool(raw.lowercased()) else {
                throw ConfigurationError(variable: "RATE_LIMIT_ENABLED", message: "must be true or false, got \"\(raw)\"")
            }
            limits.enabled = flag
        }
        if let count = try reader.integer("RATE_LIMIT_MAX_PARTITIONS", 100...10_000_000, "a number") { limits.maxPartitions = count }
        limits.read = try readPolicy(.read, default: limits.read, reader)
        limits.write = try readPolicy(.write, default: limits.write, reader)
        limits.placements = try readPolicy(.placements, default: limits.placements, reader)
    }

    private static func readPolicy(
        _ limitClass: RateLimitClass, default fallback: RateLimitPolicy?, _ reader: EnvironmentReader
    ) throws(ConfigurationError) -> RateLimitPolicy? {
        let prefix = "RATE_LIMIT_" + limitClass.rawValue.uppercased()
        let rateName = prefix + "_PER_SECOND"
        let burstName = prefix + "_BURST"
        var perSecond = fallback?.perSecond
        if let raw = reader.value(rateName) {
            if raw.lowercased() == "off" || Double(raw) == 0 {
                perSecond = nil
            } else {
                guard let rate = Double(raw), rate.isFinite, RateLimitConfiguration.rates.contains(rate) else {
                    throw ConfigurationError(variable: rateName, message: "must be requests per second from 0.01 to 1000000, or off, got \"\(raw)\"")
                }
                perSecond = rate
            }
        }
        let burst = try reader.integer(burstName, RateLimitConfiguration.bursts, "a number") ?? fallback?.burst
        guard let perSecond else { return nil }
        return RateLimitPolicy(limitClass, perSecond: perSecond, burst: burst ?? 1)
    }
}
