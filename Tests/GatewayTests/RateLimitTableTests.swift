import Testing
@testable import Gateway

/// The GCRA table alone: times are nanoseconds passed in, so nothing here waits.
@Suite struct RateLimitTableTests {
    /// 10 a second, 5 at once: T = 100 ms, τ = 500 ms.
    let policy = RateLimitPolicy(.write, perSecond: 10, burst: 5)
    let ms: Int64 = 1_000_000

    func key(_ n: UInt64) -> RateLimitTable.Fingerprint { .init(high: n, low: n &* 0x9E37_79B9_7F4A_7C15) }

    @Test func aFreshPartitionHasItsWholeBurstThenWaitsOneInterval() {
        var table = RateLimitTable(capacity: 10)
        let verdicts = (0..<6).map { _ in table.admit(key(1), policy: policy, now: 0) }
        #expect(
            verdicts == [
                .allowed(remaining: 4, fullAfter: 100 * ms), .allowed(remaining: 3, fullAfter: 200 * ms), .allowed(remaining: 2, fullAfter: 300 * ms),
                .allowed(remaining: 1, fullAfter: 400 * ms), .allowed(remaining: 0, fullAfter: 500 * ms), .limited(retryAfter: 100 * ms),
            ])
    }

    @Test func unitsComeBackAtTheRateAndNeverBeyondTheBurst() {
        var table = RateLimitTable(capacity: 10)
        for _ in 0..<5 { _ = table.admit(key(1), policy: policy, now: 0) }
        #expect(table.admit(key(1), policy: policy, now: 99 * ms) == .limited(retryAfter: 1 * ms))
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .allowed(remaining: 0, fullAfter: 500 * ms))
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .limited(retryAfter: 100 * ms))
        // An hour idle refills the bucket to its burst, not to an hour's worth.
        let hour = 3_600_000 * ms
        let later = (0..<6).map { _ in table.admit(key(1), policy: policy, now: hour) }
        #expect(later.filter { if case .allowed = $0 { true } else { false } }.count == 5)
        #expect(later.last == .limited(retryAfter: 100 * ms))
    }

    @Test func aSustainedCallerGetsExactlyTheRate() {
        var table = RateLimitTable(capacity: 10)
        var allowed = 0
        // Every 10 ms for 10 s: the burst plus 10 a second.
        for tick in 0...1000 {
            if case .allowed = table.admit(key(1), policy: policy, now: Int64(tick) * 10 * ms) { allowed += 1 }
        }
        #expect(allowed == 5 + 100)
    }

    @Test func aRefusedRequestChargesNothing() {
        var table = RateLimitTable(capacity: 10)
        for _ in 0..<5 { _ = table.admit(key(1), policy: policy, now: 0) }
        for _ in 0..<100 { #expect(table.admit(key(1), policy: policy, now: 50 * ms) == .limited(retryAfter: 50 * ms)) }
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .allowed(remaining: 0, fullAfter: 500 * ms))
        #expect(table.limited[.write] == 100)
    }

    @Test func peekAnswersLikeAdmitButChargesAndStoresNothingAndCountsItsRefusals() {
        var table = RateLimitTable(capacity: 10)
        for _ in 0..<100 { #expect(table.peek(key(1), policy: policy, now: 0) == .allowed(remaining: 4, fullAfter: 100 * ms)) }
        #expect(table.count == 0)
        for _ in 0..<5 { _ = table.admit(key(1), policy: policy, now: 0) }
        #expect(table.peek(key(1), policy: policy, now: 30 * ms) == .limited(retryAfter: 70 * ms))
        #expect(table.limited == [.write: 1], "the head screen's refusal is final: it is the one count")
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .allowed(remaining: 0, fullAfter: 500 * ms))
    }

    @Test func partitionsAreIndependent() {
        var table = RateLimitTable(capacity: 10)
        for _ in 0..<6 { _ = table.admit(key(1), policy: policy, now: 0) }
        #expect(table.admit(key(2), policy: policy, now: 0) == .allowed(remaining: 4, fullAfter: 100 * ms))
    }

    /// A clock that steps back must not hand out more than the burst, nor make a caller wait for
    /// as long as the step: the schedule is capped at an empty bucket.
    @Test func aClockGoingBackwardsNeitherGrantsMoreNorBlocksForTheStep() {
        var table = RateLimitTable(capacity: 10)
        let tenSeconds = 10_000 * ms
        for _ in 0..<5 { _ = table.admit(key(1), policy: policy, now: tenSeconds) }
        #expect(table.admit(key(1), policy: policy, now: 0) == .limited(retryAfter: 100 * ms))
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .allowed(remaining: 0, fullAfter: 500 * ms))
        #expect(table.admit(key(1), policy: policy, now: 100 * ms) == .limited(retryAfter: 100 * ms))
        // Before the origin of the scale (negative times) is no special case.
        #expect(table.admit(key(2), policy: policy, now: -tenSeconds) == .allowed(remaining: 4, fullAfter: 100 * ms))
    }

    /// GCRA against a token bucket written the obvious way (credit refilled by elapsed time, capped
    /// at the burst), on the same 5,000 irregular arrivals: the same answers, remaining units included.
    @Test func admitsExactlyWhatATokenBucketAdmits() {
        var table = RateLimitTable(capacity: 10)
        let odd = RateLimitPolicy(.read, perSecond: 7, burst: 3)
        let interval = odd.emissionInterval
        var credit = odd.tolerance
        var last: Int64 = 0
        var now: Int64 = 0
        var seed: UInt64 = 42
        var refused = 0
        for _ in 0..<5000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            now += Int64(seed >> 33) % (300 * ms)
            credit = min(odd.tolerance, credit + (now - last))
            last = now
            let expectAllowed = credit >= interval
            if expectAllowed { credit -= interval } else { refused += 1 }
            switch table.admit(key(7), policy: odd, now: now) {
            case .allowed(let remaining, _): #expect(expectAllowed && remaining == Int(credit / interval))
            case .limited(let retryAfter): #expect(!expectAllowed && retryAfter == interval - credit)
            }
        }
        #expect(refused > 100 && refused < 4900)  // both branches were exercised
    }

    @Test func idlePartitionsAreForgottenFirstAndCountAsNoEviction() {
        var table = RateLimitTable(capacity: 8)
        for n in 0..<8 { _ = table.admit(key(UInt64(n)), policy: policy, now: 0) }
        for n in 8..<16 { _ = table.admit(key(UInt64(n)), policy: policy, now: 1_000 * ms) }
        #expect(table.count == 8)
        #expect(table.evictions == 0)
    }

    /// A flood of one-request partitions (spoofed addresses) never holds more than the capacity,
    /// and evicts its own nearly-full buckets before the partition that spent its whole burst.
    @Test func aFloodOfNewPartitionsStaysWithinTheCapacityAndKeepsTheSpender() {
        var table = RateLimitTable(capacity: 64)
        let spender = key(999_999)
        for _ in 0..<5 { _ = table.admit(spender, policy: policy, now: 0) }
        for n in 0..<10_000 {
            _ = table.admit(key(UInt64(n)), policy: policy, now: Int64(n) * 1000)
            #expect(table.count <= 64)
        }
        #expect(table.evictions > 9_000)
        if case .limited = table.admit(spender, policy: policy, now: 10 * ms) {} else { Issue.record("the spender was evicted and got a fresh burst") }
    }

    @Test func aTableOfOneStillAdmitsNewPartitions() {
        var table = RateLimitTable(capacity: 1)
        for n in 0..<10 { #expect(table.admit(key(UInt64(n)), policy: policy, now: 0) == .allowed(remaining: 4, fullAfter: 100 * ms)) }
        #expect(table.count == 1)
    }
}
