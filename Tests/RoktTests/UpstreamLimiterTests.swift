import Testing
@testable import Rokt

/// The outbound limiter's decisions on a clock the test moves: rate, burst, concurrency, first
/// come first served per priority, the deadline of a wait, and Rokt's pause.
@Suite struct UpstreamLimiterTests {
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    @Test func theBurstGoesAtOnceThenCallsFollowTheRate() {
        var limiter = UpstreamLimiter(UpstreamLimits(requestsPerSecond: 10, burst: 3, maxWait: .seconds(5)), now: at(0))
        for id in 1...3 { #expect(limiter.request(id: UInt64(id), priority: .interactive, deadline: at(5000), now: at(0)) == .proceed) }
        #expect(limiter.request(id: 4, priority: .interactive, deadline: at(5000), now: at(0)) == .wait)
        #expect(limiter.request(id: 5, priority: .interactive, deadline: at(5000), now: at(0)) == .wait)
        // One token every 100 ms: the next wake-up is then, and only one waiter goes per token.
        #expect(limiter.nextWake(now: at(0)) == at(100))
        #expect(limiter.grant(now: at(99)) == [])
        #expect(limiter.grant(now: at(100)) == [4])
        #expect(limiter.grant(now: at(150)) == [])
        #expect(limiter.grant(now: at(200)) == [5])
        #expect(limiter.nextWake(now: at(200)) == nil)
    }

    @Test func tokensRefillUpToTheBurstOnly() {
        var limiter = UpstreamLimiter(UpstreamLimits(requestsPerSecond: 10, burst: 2), now: at(0))
        var started = 0
        for id in 1...5 where limiter.request(id: UInt64(id), priority: .interactive, deadline: at(0), now: at(10_000)) == .proceed {
            started += 1
        }
        #expect(started == 2)
    }

    @Test func concurrencyIsBoundedAndAReleaseLetsTheNextGo() {
        var limiter = UpstreamLimiter(UpstreamLimits(maxConcurrent: 2), now: at(0))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(1000), now: at(0)) == .proceed)
        #expect(limiter.request(id: 2, priority: .interactive, deadline: at(1000), now: at(0)) == .proceed)
        #expect(limiter.request(id: 3, priority: .interactive, deadline: at(1000), now: at(0)) == .wait)
        #expect(limiter.inFlight == 2)
        #expect(limiter.release(now: at(5)) == [3])
        #expect(limiter.inFlight == 2)
    }

    @Test func waitersAreServedInArrivalOrder() {
        var limiter = UpstreamLimiter(UpstreamLimits(maxConcurrent: 1), now: at(0))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(1000), now: at(0)) == .proceed)
        for id in 2...5 { #expect(limiter.request(id: UInt64(id), priority: .interactive, deadline: at(1000), now: at(id)) == .wait) }
        var order: [UInt64] = []
        for step in 0..<4 { order += limiter.release(now: at(10 + step)) }
        #expect(order == [2, 3, 4, 5])
    }

    @Test func aNewcomerDoesNotOvertakeTheQueue() {
        var limiter = UpstreamLimiter(UpstreamLimits(requestsPerSecond: 1, burst: 1), now: at(0))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(5000), now: at(0)) == .proceed)
        #expect(limiter.request(id: 2, priority: .interactive, deadline: at(5000), now: at(100)) == .wait)
        // A token is there by now, but id 2 waits for it: the newcomer queues behind.
        #expect(limiter.request(id: 3, priority: .interactive, deadline: at(5000), now: at(1000)) == .wait)
        #expect(limiter.grant(now: at(1000)) == [2])
    }

    @Test func readsGoFirstButTheEngineIsNotStarved() {
        var limiter = UpstreamLimiter(UpstreamLimits(maxConcurrent: 1), now: at(0))
        #expect(limiter.request(id: 100, priority: .interactive, deadline: at(9000), now: at(0)) == .proceed)
        #expect(limiter.request(id: 1, priority: .background, deadline: at(9000), now: at(1)) == .wait)
        for id in 2...8 { #expect(limiter.request(id: UInt64(id), priority: .interactive, deadline: at(9000), now: at(1 + id)) == .wait) }
        var order: [UInt64] = []
        for step in 0..<8 { order += limiter.release(now: at(20 + step)) }
        // Interactive first, but the background call goes after at most `maxPassOver` of them.
        #expect(order == [2, 3, 4, 5, 1, 6, 7, 8])
        #expect(UpstreamLimiter.maxPassOver == 4)
    }

    @Test func aWaiterPastItsDeadlineIsRefused() {
        var limiter = UpstreamLimiter(UpstreamLimits(maxConcurrent: 1), now: at(0))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(1000), now: at(0)) == .proceed)
        #expect(limiter.request(id: 2, priority: .interactive, deadline: at(300), now: at(0)) == .wait)
        #expect(limiter.request(id: 3, priority: .background, deadline: at(800), now: at(0)) == .wait)
        #expect(limiter.nextWake(now: at(0)) == at(300))
        #expect(limiter.expire(now: at(299)) == [])
        #expect(limiter.expire(now: at(300)) == [2])
        #expect(limiter.waiting == 1)
        #expect(limiter.release(now: at(400)) == [3])
    }

    @Test func aZeroWaitIsRefusedRatherThanQueued() {
        var limiter = UpstreamLimiter(UpstreamLimits(maxConcurrent: 1), now: at(0))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(0), now: at(0)) == .proceed)
        #expect(limiter.request(id: 2, priority: .interactive, deadline: at(0), now: at(0)) == .refuse(retryAfter: .seconds(1)))
    }

    @Test func aPauseHoldsEveryCallAndRefusesThoseThatCannotOutwaitIt() {
        var limiter = UpstreamLimiter(.unlimited, now: at(0))
        limiter.pause(until: at(2000))
        // An earlier pause does not shorten a later one.
        limiter.pause(until: at(1000))
        #expect(limiter.request(id: 1, priority: .interactive, deadline: at(500), now: at(0)) == .refuse(retryAfter: .seconds(2)))
        #expect(limiter.request(id: 2, priority: .background, deadline: at(5000), now: at(0)) == .wait)
        #expect(limiter.nextWake(now: at(0)) == at(2000))
        #expect(limiter.grant(now: at(1999)) == [])
        #expect(limiter.grant(now: at(2000)) == [2])
        #expect(limiter.request(id: 3, priority: .interactive, deadline: at(2000), now: at(2000)) == .proceed)
    }

    @Test func noLimitsMeansEveryCallGoes() {
        var limiter = UpstreamLimiter(.unlimited, now: at(0))
        for id in 1...1000 { #expect(limiter.request(id: UInt64(id), priority: .background, deadline: at(0), now: at(0)) == .proceed) }
    }
}
