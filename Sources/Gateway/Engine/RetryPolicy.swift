/// When to try an upstream call again: exponential backoff with full jitter
/// (delay = random(0, min(cap, base × 2^(attempt−1)))), never sooner than Rokt's `Retry-After`,
/// and never once the operation is older than `maxAge`.
///
/// With the defaults (base 1 s, cap 5 min, max age 24 h) the upper bound of the delay after
/// each failed attempt is:
///
/// | attempt | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | ≥10 |
/// |---|---|---|---|---|---|---|---|---|---|---|
/// | delay ≤ | 1 s | 2 s | 4 s | 8 s | 16 s | 32 s | 64 s | 128 s | 256 s | 300 s |
///
/// so a day of Rokt failing costs about 300 attempts, each with the same idempotency key
/// while the payload is unchanged.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public var maxAge: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300), maxAge: Duration = .seconds(24 * 3600)) {
        self.base = base
        self.cap = cap
        self.maxAge = maxAge
    }

    /// The upper bound of the delay after failed attempt number `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let baseMs = base.milliseconds
        let bound = baseMs > 0 && exponent < 62 - bitWidth(baseMs) ? baseMs << exponent : Int64.max
        return .milliseconds(min(bound, cap.milliseconds))
    }

    /// The delay before the next attempt, drawn with `random`; at least `retryAfter` when Rokt gave one.
    public func delay<R: RandomNumberGenerator>(afterAttempt attempt: Int, retryAfter: Duration?, using random: inout R) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt).milliseconds
        let jittered = ceiling > 0 ? Int64.random(in: 0...ceiling, using: &random) : 0
        return .milliseconds(max(jittered, retryAfter?.milliseconds ?? 0))
    }

    /// Whether an operation created at `createdAt` may still be retried at `now` (milliseconds).
    public func allowsRetry(createdAt: Int64, now: Int64) -> Bool { now - createdAt < maxAge.milliseconds }

    private func bitWidth(_ value: Int64) -> Int { 64 - value.leadingZeroBitCount }
}

extension Duration {
    /// Whole milliseconds (truncated).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
