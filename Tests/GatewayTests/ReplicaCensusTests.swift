import Testing
@testable import Gateway

/// Counting the gateway processes that share a store from the notices they send (no sockets).
@Suite struct ReplicaCensusTests {
    @Test func countsThisProcessAndTheOthersHeardWithinTheHorizon() {
        var census = ReplicaCensus()
        let t0 = ContinuousClock.now
        #expect(census.working(at: t0) == 1)
        census.heard("store_a", at: t0)
        census.heard("store_b", at: t0 + .seconds(4))
        census.heard("store_a", at: t0 + .seconds(5))
        #expect(census.working(at: t0 + .seconds(6)) == 3)
        // store_b falls silent (killed, or idle): it stops counting after the horizon.
        #expect(census.working(at: t0 + .seconds(14) + .milliseconds(1)) == 2)
        #expect(census.working(at: t0 + .seconds(16)) == 1)
    }

    @Test func remembersABoundedNumberOfSenders() {
        var census = ReplicaCensus()
        let t0 = ContinuousClock.now
        for index in 0..<(ReplicaCensus.maximumSenders + 50) { census.heard("store_\(index)", at: t0 + .milliseconds(index)) }
        #expect(census.working(at: t0 + .seconds(2)) == 1 + ReplicaCensus.maximumSenders)
    }
}
