import Synchronization

/// The gateway's limits on its own callers (RATE_LIMIT_*; README.md, "Rate limits"): one budget
/// per partition (an API key, a user, a publishable key and client address) and class, held in
/// this process's memory. Each replica limits on its own.
///
/// Partitions are spread over `stripeCount` tables, each behind its own lock, by a keyed hash
/// whose key is drawn at start, so callers cannot aim their partitions at one stripe; a decision
/// holds one stripe's lock for a dictionary lookup and a few integer operations.
public final class CallerRateLimits: Sendable {
    public let configuration: RateLimitConfiguration
    private let stripes: [Stripe]
    private let origin: ContinuousClock.Instant
    private let now: @Sendable () -> ContinuousClock.Instant
    private let salt: (UInt64, UInt64)

    /// One lock and the table it guards; a class because `Mutex` cannot live in an array.
    private final class Stripe: Sendable {
        let table: Mutex<RateLimitTable>
        init(capacity: Int) { table = Mutex(RateLimitTable(capacity: capacity)) }
    }

    /// `now` is injected so tests move time by hand; `maxPartitions` is shared out over `stripeCount` tables.
    public init(
        configuration: RateLimitConfiguration, stripeCount: Int = 16,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.configuration = configuration
        let count = max(1, min(stripeCount, configuration.maxPartitions))
        let base = configuration.maxPartitions / count
        // The first `remainder` stripes take one more, so the capacities add up to maxPartitions.
        let remainder = configuration.maxPartitions % count
        stripes = (0..<count).map { Stripe(capacity: base + ($0 < remainder ? 1 : 0)) }
        self.now = now
        origin = now()
        var random = SystemRandomNumberGenerator()
        salt = (random.next(), random.next())
    }

    /// Charges one request of `limitClass` to `partition` (a `RateLimitPartition` string) and
    /// says whether it may go on; a refused request charges nothing.
    public func admit(partition: String, class limitClass: RateLimitClass) -> RateLimitDecision {
        decide(partition: partition, limitClass: limitClass) { table, key, policy, now in table.admit(key, policy: policy, now: now) }
    }

    /// What `admit` would answer, charging nothing: for refusing from a request's head, before its
    /// body is read. A request that passes is then `admit`ted; one refused is counted as limited.
    public func peek(partition: String, class limitClass: RateLimitClass) -> RateLimitDecision {
        decide(partition: partition, limitClass: limitClass) { table, key, policy, now in table.peek(key, policy: policy, now: now) }
    }

    /// Partitions held, lossy evictions and refusals per class since start (for `/metrics`).
    public var statistics: RateLimitStatistics {
        var statistics = RateLimitStatistics()
        for stripe in stripes {
            stripe.table.withLock { table in
                statistics.partitions += table.count
                statistics.evictions += table.evictions
                for (limitClass, count) in table.limited { statistics.limited[limitClass, default: 0] += count }
            }
        }
        return statistics
    }

    private func decide(
        partition: String, limitClass: RateLimitClass,
        _ body: (inout RateLimitTable, RateLimitTable.Fingerprint, RateLimitPolicy, Int64) -> RateLimitTable.Verdict
    ) -> RateLimitDecision {
        guard configuration.enabled, let policy = configuration.policy(limitClass) else { return .unlimited }
        let key = fingerprint(partition, limitClass)
        let elapsed = Self.nanoseconds(now() - origin)
        let verdict = stripes[Int(key.low % UInt64(stripes.count))].table.withLock { body(&$0, key, policy, elapsed) }
        switch verdict {
        case .allowed(let remaining, let fullAfter): return .allowed(policy, remaining: remaining, fullAfter: .nanoseconds(fullAfter))
        case .limited(let retryAfter): return .limited(policy, retryAfter: .nanoseconds(retryAfter))
        }
    }

    /// Two SipHash values over the class and the partition, keyed by this process's salt.
    private func fingerprint(_ partition: String, _ limitClass: RateLimitClass) -> RateLimitTable.Fingerprint {
        func hash(_ salt: UInt64) -> UInt64 {
            var hasher = Hasher()
            hasher.combine(salt)
            hasher.combine(limitClass.rawValue)
            hasher.combine(partition)
            return UInt64(bitPattern: Int64(hasher.finalize()))
        }
        return RateLimitTable.Fingerprint(high: hash(salt.0), low: hash(salt.1))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// What `CallerRateLimits` has done since start.
public struct RateLimitStatistics: Sendable, Equatable {
    /// Partitions in memory now (at most RATE_LIMIT_MAX_PARTITIONS).
    public var partitions = 0
    /// Partitions forgotten before their bucket was full because the table was full.
    public var evictions = 0
    public var limited: [RateLimitClass: Int] = [:]
}
