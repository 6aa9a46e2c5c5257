/// The limits on the gateway's own callers (RATE_LIMIT_*; README.md, "Rate limits"). Every limit
/// holds per replica: behind a balancer spreading a caller over N replicas, the caller gets up
/// to N times each rate.
public struct RateLimitConfiguration: Sendable, Equatable {
    /// RATE_LIMIT_ENABLED (default true); false limits nothing and sends no RateLimit fields.
    public var enabled = true
    /// RATE_LIMIT_MAX_PARTITIONS: budgets held in memory at most (`RateLimitTable` says which go first).
    public var maxPartitions = 100_000
    /// Per class; nil turns that class's limit off (its rate set to `off` or `0`).
    public var read: RateLimitPolicy? = defaultPolicy(.read)
    public var write: RateLimitPolicy? = defaultPolicy(.write)
    public var placements: RateLimitPolicy? = defaultPolicy(.placements)

    public init() {}

    /// Writes 10 a second, 50 at once, per caller; reads 50 a second, 100 at once, per caller;
    /// placements with a publishable key 50 a second, 100 at once, per key and client address.
    public static func defaultPolicy(_ limitClass: RateLimitClass) -> RateLimitPolicy {
        switch limitClass {
        case .read: RateLimitPolicy(.read, perSecond: 50, burst: 100)
        case .write: RateLimitPolicy(.write, perSecond: 10, burst: 50)
        case .placements: RateLimitPolicy(.placements, perSecond: 50, burst: 100)
        }
    }

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
        limits.read = try readPolicy(.read, reader)
        limits.write = try readPolicy(.write, reader)
        limits.placements = try readPolicy(.placements, reader)
    }

    /// The class's default, with the rate and burst the environment sets; nil when turned off.
    private static func readPolicy(_ limitClass: RateLimitClass, _ reader: EnvironmentReader) throws(ConfigurationError) -> RateLimitPolicy? {
        let defaults = RateLimitConfiguration.defaultPolicy(limitClass)
        let prefix = "RATE_LIMIT_" + limitClass.rawValue.uppercased()
        let rateName = prefix + "_PER_SECOND"
        // Read first, so a malformed burst is refused even for a class turned off.
        let burst = try reader.integer(prefix + "_BURST", RateLimitConfiguration.bursts, "a number") ?? defaults.burst
        guard let raw = reader.value(rateName) else { return RateLimitPolicy(limitClass, perSecond: defaults.perSecond, burst: burst) }
        if raw.lowercased() == "off" || Double(raw) == 0 { return nil }
        guard let rate = Double(raw), rate.isFinite, RateLimitConfiguration.rates.contains(rate) else {
            throw ConfigurationError(variable: rateName, message: "must be requests per second from 0.01 to 1000000, or off, got \"\(raw)\"")
        }
        return RateLimitPolicy(limitClass, perSecond: rate, burst: burst)
    }
}
