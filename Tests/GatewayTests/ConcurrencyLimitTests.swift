import Testing

@testable import Gateway
@testable import RoktSandbox

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

    @Test func belowOneJobTheLimitRecoversAsTheDeploymentsWould() {
        var limit = Feeder(ConcurrencyLimit(minimum: 1, maximum: 32))
        limit.limit.set(replicas: 4)
        limit.record(round: .milliseconds(2))
        for _ in 0..<400 { limit.record(round: .milliseconds(30)) }
        #expect(limit.limit.limit == 0.25)
        // The deployment's total was one job: one fast round adds one job to it, as it would to
        // one replica at one job (a quarter of a job per replica becomes one and a quarter).
        limit.record(round: .milliseconds(2))
        #expect(abs(limit.limit.limit - 1.25) < 1e-9)
        #expect(limit.limit.pause(after: .milliseconds(10)) == .zero)
        for _ in 0..<10_000 { limit.record(round: .milliseconds(2)) }
        #expect(limit.current == 32)
    }

    /// Each of N replicas sees an Nth of the rounds: it grows by an Nth of one replica's step and
    /// shrinks N times over (0.95^N), so the replicas' total moves round for round as one
    /// replica's limit would. With one replica's steps each, they settled at √N times as many jobs.
    @Test func eachOfNReplicasGrowsByAnNthOfOneReplicasStepAndShrinksNTimesOver() {
        func afterOneRound(replicas: Int, round: Duration) -> Double {
            var limit = Feeder(ConcurrencyLimit(minimum: 1, maximum: 64))
            limit.record(round: .milliseconds(2))
            for _ in 0..<44 { limit.record(round: .milliseconds(30)) }  // 64 × 0.95^44: a little above 6
            limit.limit.set(replicas: replicas)
            let before = limit.limit.limit
            limit.record(round: round)
            return limit.limit.limit / before
        }
        let before: Double = (0..<44).reduce(64) { limit, _ in limit * 0.95 }
        let grownAlone: Double = 1 + 1 / (before * before)
        let grownEachOfThree: Double = 1 + 1 / (3 * before * before)
        #expect(abs(afterOneRound(replicas: 1, round: .milliseconds(2)) - grownAlone) < 1e-12)
        #expect(abs(afterOneRound(replicas: 3, round: .milliseconds(2)) - grownEachOfThree) < 1e-12)
        #expect(abs(afterOneRound(replicas: 1, round: .milliseconds(30)) - 0.95) < 1e-12)
        #expect(abs(afterOneRound(replicas: 3, round: .milliseconds(30)) - 0.95 * 0.95 * 0.95) < 1e-12)
    }

    /// The point of it: replicas fed the deployment's rounds in turn settle where one replica fed
    /// all of them does, a round being inflated with a probability growing with the jobs running
    /// in all (total / 20). With one replica's steps each, three settled at 11.6 jobs against
    /// one's 6.5; with the growth shared but not the decrease at 8.8; with the growth below one
    /// job per replica slowed to twentieths at 5.0.
    @Test func replicasSettleAtOneReplicasTotal() {
        func settled(replicas: Int) -> Double {
            var random = SplitMix64(seed: 7)
            var limits = (0..<replicas).map { _ in Feeder(ConcurrencyLimit(minimum: 1, maximum: 64)) }
            for i in limits.indices {
                limits[i].limit.set(replicas: replicas)
                limits[i].record(round: .milliseconds(2))
            }
            var sum = 0.0
            for round in 0..<60_000 {
                let total = limits.reduce(0) { $0 + $1.limit.limit }
                let inflated = random.nextUnit() < min(1, total / 20)
                limits[round % replicas].record(round: inflated ? .milliseconds(30) : .milliseconds(2))
                if round >= 20_000 { sum += total }
            }
            return sum / 40_000
        }
        let one = settled(replicas: 1)
        #expect(one > 5 && one < 8)
        for replicas in [2, 3, 5] { #expect(abs(settled(replicas: replicas) - one) < 0.1 * one) }
    }

    @Test func runsBeyondAFallenLimitHandTheirSlotsBackOneEach() {
        var limit = ConcurrencyLimit(minimum: 1, maximum: 8)
        for _ in 0..<8 { limit.runStarted() }
        let start = ContinuousClock.now
        limit.record(round: .milliseconds(2), at: start)
        // Each round at 10× the baseline shrinks the limit by 5 %: well below 8 after 40.
        for i in 1...40 { limit.record(round: .milliseconds(20), at: start + .milliseconds(i)) }
        let allowed = limit.current
        #expect(allowed < 8)
        // The first rounds to end hand over, each only while runs beyond the limit remain, even
        // though none has ended yet: no more hand over than the excess.
        let answers = (0..<8).map { _ in limit.afterRound(.milliseconds(20)) }
        #expect(answers.filter { $0 == .handOver }.count == 8 - allowed)
        #expect(answers.suffix(allowed).allSatisfy { $0 != .handOver })
        // Those runs end; the others go on, and a new run may start only when one of them ends.
        #expect(limit.free == 0)  // no launch while the runs handing over have not ended
        for _ in 0..<(8 - allowed) { limit.runEnded(handedOver: true) }
        #expect(limit.runs == allowed && limit.handingOver == 0 && limit.free == 0)
        #expect(limit.afterRound(.milliseconds(20)) != .handOver)
        limit.runStarted()
        #expect(limit.afterRound(.milliseconds(20)) == .handOver)
    }

    @Test func withinTheLimitARoundGoesOnRestingOnlyBelowOneJob() {
        var limit = ConcurrencyLimit(minimum: 1, maximum: 4)
        limit.runStarted()
        limit.record(round: .milliseconds(10), at: .now)
        #expect(limit.afterRound(.milliseconds(10)) == .goOn(resting: .zero))
        // Three replicas at their floor, a third of a job each: one run, resting twice its round.
        var shared = ConcurrencyLimit(minimum: 1, maximum: 4)
        shared.set(replicas: 3)
        shared.runStarted()
        let start = ContinuousClock.now
        shared.record(round: .milliseconds(2), at: start)
        for i in 1...200 { shared.record(round: .milliseconds(20), at: start + .milliseconds(i)) }
        #expect(abs(shared.limit - 1.0 / 3) < 1e-9)
        #expect(shared.afterRound(.milliseconds(30)) == .goOn(resting: .milliseconds(60)))
        // A second run beside it (launched when the limit was higher) hands over instead of resting.
        shared.runStarted()
        #expect(shared.afterRound(.milliseconds(30)) == .handOver)
    }

    @Test func theEngineJudgesARoundByItsTimeToTheFirstReadNotByItsBatch() {
        let limit = LockedConcurrencyLimit(ConcurrencyLimit(minimum: 1, maximum: 8))
        let start = ContinuousClock.now
        _ = limit.record(round: .milliseconds(6), firstRead: .milliseconds(3), at: start, replicas: 1)
        // Rounds merging hundreds of operations take 100 times the first one, but reach Rokt as
        // fast: nothing is contended, the limit stays (their whole time shrank it to the minimum).
        for i in 1...100 {
            _ = limit.record(round: .milliseconds(600), firstRead: .milliseconds(4), at: start + .milliseconds(i), replicas: 1)
        }
        #expect(limit.jobs == 8)
        // Reaching Rokt slowly is contention: the limit shrinks.
        for i in 101...120 {
            _ = limit.record(round: .milliseconds(600), firstRead: .milliseconds(30), at: start + .milliseconds(i), replicas: 1)
        }
        #expect(limit.jobs < 8)
        // A round that read nothing (a resumed write) is no sample: the limit does not move.
        let before = limit.jobs
        _ = limit.record(round: .seconds(5), firstRead: nil, at: start + .milliseconds(121), replicas: 1)
        #expect(limit.jobs == before)
    }

    @Test func aRestBelowOneJobIsAShareOfTheWholeRound() {
        let limit = LockedConcurrencyLimit(ConcurrencyLimit(minimum: 1, maximum: 4))
        let start = ContinuousClock.now
        limit.runStarted()
        _ = limit.record(round: .milliseconds(4), firstRead: .milliseconds(2), at: start, replicas: 4)
        var next = AfterRound.goOn(resting: .zero)
        for i in 1...300 { next = limit.record(round: .milliseconds(90), firstRead: .milliseconds(20), at: start + .milliseconds(i), replicas: 4) }
        #expect(limit.jobs == 0.25)
        guard case .goOn(let rest) = next else { Issue.record("handed over: \(next)"); return }
        #expect(rest > .microseconds(269_999) && rest < .microseconds(270_001))  // 3 × the round, not 3 × its first read
    }

    @Test func boundsAreSane() {
        let limit = ConcurrencyLimit(minimum: 0, maximum: 4)
        #expect(limit.minimum == 1 && limit.current == 4)
        #expect(ConcurrencyLimit(minimum: 10, maximum: 4).minimum == 4)
    }
}
