import Testing
@testable import Gateway

/// The engine's adaptive concurrency limit, fed round times by hand (no sockets, no clock).
@Suite struct ConcurrencyLimitTests {
    /// Rounds recorded back to back, 1 ms apart (well inside the time window).
    struct Feeder {
        var limit: ConcurrencyLimit
        var now = ContinuousClock.now
        init(_ limit: ConcurrencyLimit) { self.limit = limit }
        mutating func record(round: Duration, after gap: Duration = .milliseconds(1)) {
            now += gap
            limit.record(round: round, at: now)
        }
        var current: Int { limit.current }
        var baseline: Double? { limit.baseline }
    }

    @Test func startsAtTheMaximumAndStaysThereWhileRoundsDoNotInflate() {
        var limit = Feeder(ConcurrencyLimit(minimum: 2, maximum: 32))
        #expect(limit.current == 32)
        // A slow but steady upstream (100 ms ± 20 %): waiting on Rokt is what concurrency is for.
        for i in 0..<2_000 { limit.record(round: .milliseconds(100 + (i % 5) * 10 - 20)) }
        #expect(limit.current == 32)
        #expect(limit.baseline == 0.08)
    }

    @Test func inflatedRoundsShrinkTheLimitDownToTheMinimum() {
        var limit = Feeder(ConcurrencyLimit(minimum: 2, maximum: 32))
        limit.record(round: .milliseconds(2))
        for _ in 0..<20 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current < 32 && limit.current > 2)
        for _ in 0..<200 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current == 2)
    }

    @Test func recoversAdditivelyOnceRoundsAreFastAgain() {
        var limit = Feeder(ConcurrencyLimit(minimum: 2, maximum: 32))
        limit.record(round: .milliseconds(2))
        for _ in 0..<200 { limit.record(round: .milliseconds(10)) }
        #expect(limit.current == 2)
        for _ in 0..<10 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current > 2 && limit.current < 32)  // additive: not all the way back at once
        for _ in 0..<1_000 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current == 32)
    }

    @Test func theBaselineFollowsALastingChangeWithinTwoWindows() {
        var limit = Feeder(ConcurrencyLimit(minimum: 2, maximum: 32, window: 100))
        for _ in 0..<150 { limit.record(round: .milliseconds(2)) }
        // Rokt becomes slower for good: after two windows, 50 ms is the new normal.
        for _ in 0..<250 { limit.record(round: .milliseconds(50)) }
        #expect(limit.baseline == 0.05)
        for _ in 0..<2_000 { limit.record(round: .milliseconds(50)) }
        #expect(limit.current == 32)
    }

    @Test func aSlowerRoktIsTheNewNormalWithinTwoTimeWindowsEvenAtLowConcurrency() {
        var limit = Feeder(ConcurrencyLimit(minimum: 1, maximum: 32, window: 256, windowDuration: .seconds(10)))
        for _ in 0..<100 { limit.record(round: .milliseconds(100), after: .milliseconds(100)) }
        // Rokt slows to 300 ms: rounds inflate, the limit falls to the minimum...
        for _ in 0..<40 { limit.record(round: .milliseconds(300), after: .milliseconds(300)) }
        #expect(limit.current < 32)
        // ...and at one round per 300 ms, two 10 s windows (about 70 rounds, far fewer than 2 × 256)
        // make 300 ms the baseline, after which the limit grows back.
        for _ in 0..<70 { limit.record(round: .milliseconds(300), after: .milliseconds(300)) }
        #expect(limit.baseline == 0.3)
        for _ in 0..<1_000 { limit.record(round: .milliseconds(300), after: .milliseconds(300)) }
        #expect(limit.current == 32)
    }

    /// Three replicas under overload run one job between them, as one replica would: each goes
    /// down to a third of a job, working one job a third of the time (resting twice its round).
    @Test func theMinimumIsTheDeploymentsShareBetweenReplicasBelowOneJobARoundRests() {
        var limit = Feeder(ConcurrencyLimit(minimum: 1, maximum: 32))
        limit.limit.set(replicas: 3)
        #expect(limit.limit.floor == 1.0 / 3)
        limit.record(round: .milliseconds(2))
        for _ in 0..<400 { limit.record(round: .milliseconds(30)) }
        #expect(limit.limit.limit == 1.0 / 3)
        #expect(limit.current == 1)
        let pause = limit.limit.pause(after: .milliseconds(30))
        #expect(pause > .microseconds(59_999) && pause < .microseconds(60_001))
        #expect(limit.limit.pause(after: .seconds(5)) == ConcurrencyLimit.maximumPause)
        // Alone again: the floor is one whole job, and no round rests.
        limit.limit.set(replicas: 1)
        #expect(limit.limit.limit == 1)
        #expect(limit.limit.pause(after: .milliseconds(30)) == .zero)
    }

    @Test func belowOneJobTheLimitRecoversByTwentiethsThenAdditively() {
        var limit = Feeder(ConcurrencyLimit(minimum: 1, maximum: 32))
        limit.limit.set(replicas: 4)
        limit.record(round: .milliseconds(2))
        for _ in 0..<400 { limit.record(round: .milliseconds(30)) }
        #expect(limit.limit.limit == 0.25)
        // A twentieth of a job per round, shared by the four: 5 rounds on each add a quarter.
        for _ in 0..<20 { limit.record(round: .milliseconds(2)) }
        #expect(abs(limit.limit.limit - 0.5) < 1e-9)
        #expect(limit.limit.pause(after: .milliseconds(10)) > .zero)
        for _ in 0..<50 { limit.record(round: .milliseconds(2)) }
        #expect(limit.limit.limit > 1 && limit.limit.pause(after: .milliseconds(10)) == .zero)
        for _ in 0..<10_000 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current == 32)
    }

    /// N replicas each growing by one replica's step would settle at N times one replica's
    /// limit between them: each grows by an Nth, so together they grow as one replica does.
    @Test func eachOfNReplicasGrowsByAnNthOfOneReplicasStep() {
        func afterOneFastRound(replicas: Int) -> Double {
            var limit = Feeder(ConcurrencyLimit(minimum: 4, maximum: 64))
            limit.record(round: .milliseconds(2))
            for _ in 0..<400 { limit.record(round: .milliseconds(30)) }  // down to 4 jobs
            limit.limit.set(replicas: replicas)
            #expect(limit.limit.limit == 4)
            limit.record(round: .milliseconds(2))
            return limit.limit.limit
        }
        #expect(afterOneFastRound(replicas: 1) == 4.25)
        #expect(abs(afterOneFastRound(replicas: 3) - (4 + 0.25 / 3)) < 1e-12)
    }

    @Test func boundsAreSane() {
        let limit = ConcurrencyLimit(minimum: 0, maximum: 4)
        #expect(limit.minimum == 1 && limit.current == 4)
        #expect(ConcurrencyLimit(minimum: 10, maximum: 4).minimum == 4)
    }
}
