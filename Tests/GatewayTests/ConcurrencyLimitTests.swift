import Testing
@testable import Gateway

/// The engine's adaptive concurrency limit, fed round times by hand (no sockets, no clock).
@Suite struct ConcurrencyLimitTests {
    @Test func startsAtTheMaximumAndStaysThereWhileRoundsDoNotInflate() {
        var limit = ConcurrencyLimit(minimum: 2, maximum: 32)
        #expect(limit.current == 32)
        // A slow but steady upstream (100 ms ± 20 %): waiting on Rokt is what concurrency is for.
        for i in 0..<2_000 { limit.record(round: .milliseconds(100 + (i % 5) * 10 - 20)) }
        #expect(limit.current == 32)
        #expect(limit.baseline == 0.08)
    }

    @Test func inflatedRoundsShrinkTheLimitDownToTheMinimum() {
        var limit = ConcurrencyLimit(minimum: 2, maximum: 32)
        limit.record(round: .milliseconds(2))
        for _ in 0..<20 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current < 32 && limit.current > 2)
        for _ in 0..<200 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current == 2)
    }

    @Test func recoversAdditivelyOnceRoundsAreFastAgain() {
        var limit = ConcurrencyLimit(minimum: 2, maximum: 32)
        limit.record(round: .milliseconds(2))
        for _ in 0..<200 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current == 2)
        for _ in 0..<10 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current > 2 && limit.current < 32)  // additive: not all the way back at once
        for _ in 0..<1_000 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current == 32)
    }

    @Test func theBaselineFollowsALastingChangeWithinTwoWindows() {
        var limit = ConcurrencyLimit(minimum: 2, maximum: 32, window: 100)
        for _ in 0..<150 { limit.record(round: .milliseconds(2)) }
        // Rokt becomes slower for good: after two windows, 50 ms is the new normal.
        for _ in 0..<250 { limit.record(round: .milliseconds(50)) }
        #expect(limit.baseline == 0.05)
        for _ in 0..<2_000 { limit.record(round: .milliseconds(50)) }
        #expect(limit.current == 32)
    }

    @Test func boundsAreSane() {
        let limit = ConcurrencyLimit(minimum: 0, maximum: 4)
        #expect(limit.minimum == 1 && limit.current == 4)
        #expect(ConcurrencyLimit(minimum: 10, maximum: 4).minimum == 4)
    }
}
