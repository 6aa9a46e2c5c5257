/// The budgets of up to `capacity` partitions, with no clock and no lock: times come in as
/// nanoseconds on a monotonic scale, and `CallerRateLimits` holds one table per lock stripe.
///
/// GCRA (the generic cell rate algorithm, ITU-T I.371): each partition stores only its
/// theoretical arrival time `tat`, the instant its bucket would be full again. With emission
/// interval T = 1/rate and tolerance τ = burst × T, a request at `now` is allowed when
/// `max(tat, now) + T − now ≤ τ`, and then moves `tat` on by T; it admits exactly what a token
/// bucket of that rate and capacity admits. A partition absent from the table has a full bucket.
///
/// Memory: at most `capacity` partitions. A new partition arriving at a full table first drops
/// every idle one (`tat ≤ now`: its bucket is full, so forgetting it changes nothing); when that
/// frees less than a quarter of the table, the partitions closest to full are dropped until a
/// quarter is free. A flood of distinct keys (spoofed client addresses) thus evicts its own
/// one-request partitions first and keeps the partitions that are spending fast, which are the
/// ones worth limiting; an evicted partition starts again with a full bucket. Each eviction
/// pass sorts the table once and is followed by `capacity / 4` cheap inserts.
struct RateLimitTable {
    /// A partition's identity: 128 bits of keyed hash (`CallerRateLimits.fingerprint`), so every
    /// entry has the same small size however long the caller's id is.
    struct Fingerprint: Hashable, Sendable {
        let high: UInt64
        let low: UInt64
    }

    enum Verdict: Equatable {
        /// `remaining` units are left after this one; the bucket is full again after `fullAfter` ns.
        case allowed(remaining: Int, fullAfter: Int64)
        /// One unit comes back after `retryAfter` ns.
        case limited(retryAfter: Int64)
    }

    let capacity: Int
    private var arrivals: [Fingerprint: Int64] = [:]
    /// Partitions dropped while their bucket was not full (each got a free refill): a metric.
    private(set) var evictions = 0
    /// Requests refused, per class: a metric.
    private(set) var limited: [RateLimitClass: Int] = [:]

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { arrivals.count }

    /// Charges one unit to `key` under `policy` when it has one; a refused request charges nothing.
    mutating func admit(_ key: Fingerprint, policy: RateLimitPolicy, now: Int64) -> Verdict {
        let stored = arrivals[key]
        let tat = Self.schedule(stored, policy: policy, now: now)
        let verdict = Self.verdict(tat: tat, policy: policy, now: now)
        switch verdict {
        case .allowed(_, let fullAfter):
            if stored == nil && arrivals.count >= capacity { makeRoom(now: now) }
            arrivals[key] = now + fullAfter
        case .limited:
            limited[policy.limitClass, default: 0] += 1
            if let stored, stored > tat { arrivals[key] = tat }  // keep the cap, or the step would block until the clock caught up
        }
        return verdict
    }

    /// What `admit` would answer now, charging nothing and storing nothing (the head-of-request
    /// screen). A refusal is counted: the screen's answer is final, its request is never admitted.
    mutating func peek(_ key: Fingerprint, policy: RateLimitPolicy, now: Int64) -> Verdict {
        let verdict = Self.verdict(tat: Self.schedule(arrivals[key], policy: policy, now: now), policy: policy, now: now)
        if case .limited = verdict { limited[policy.limitClass, default: 0] += 1 }
        return verdict
    }

    /// The partition's `tat` as of `now`. Absent or idle: now (a full bucket). A schedule further
    /// ahead than τ can only come from a clock that went backwards; it is capped at τ (an empty
    /// bucket), so a clock step costs a caller at most one interval's wait, never the step.
    private static func schedule(_ stored: Int64?, policy: RateLimitPolicy, now: Int64) -> Int64 {
        min(max(stored ?? now, now), now + policy.tolerance)
    }

    private static func verdict(tat: Int64, policy: RateLimitPolicy, now: Int64) -> Verdict {
        let interval = policy.emissionInterval
        let tolerance = policy.tolerance
        let next = tat + interval
        if next - now > tolerance { return .limited(retryAfter: next - tolerance - now) }
        return .allowed(remaining: Int((tolerance - (next - now)) / interval), fullAfter: next - now)
    }

    private mutating func makeRoom(now: Int64) {
        arrivals = arrivals.filter { $0.value > now }
        let target = capacity - max(1, capacity / 4)
        guard arrivals.count > target else { return }
        let fullest = arrivals.sorted { $0.value < $1.value }.prefix(arrivals.count - target)
        for (key, _) in fullest { arrivals[key] = nil }
        evictions += fullest.count
    }
}
