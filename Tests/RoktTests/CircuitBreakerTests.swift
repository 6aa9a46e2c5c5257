import Testing
@testable import Rokt

/// The circuit breaker's states on a clock the test moves.
@Suite struct CircuitBreakerTests {
    let t0 = ContinuousClock.now
    let settings = CircuitBreakerSettings(failureThreshold: 3, openDuration: .seconds(10), halfOpenProbes: 2)

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    func opened() -> CircuitBreaker {
        var breaker = CircuitBreaker(settings)
        for _ in 0..<3 {
            #expect(breaker.admit(now: at(0)) == .call(probe: false))
            breaker.record(.failing, probe: false, now: at(0))
        }
        return breaker
    }

    @Test func consecutiveFailuresOpenIt() {
        var breaker = CircuitBreaker(settings)
        breaker.record(.failing, probe: false, now: at(0))
        breaker.record(.failing, probe: false, now: at(0))
        breaker.record(.healthy, probe: false, now: at(0))
        breaker.record(.failing, probe: false, now: at(0))
        breaker.record(.neutral, probe: false, now: at(0))
        breaker.record(.failing, probe: false, now: at(0))
        #expect(breaker.state == .closed(failures: 2))
        breaker.record(.failing, probe: false, now: at(1))
        #expect(breaker.state == .open(until: at(11)))
    }

    @Test func openRefusesUntilItsTimeThenHalfOpens() {
        var breaker = opened()
        #expect(breaker.admit(now: at(4)) == .refuse(retryAfter: .seconds(6)))
        #expect(breaker.holdRemaining(now: at(4)) == .seconds(6))
        #expect(breaker.holdRemaining(now: at(10)) == nil)
        #expect(breaker.admit(now: at(10)) == .call(probe: true))
        #expect(breaker.state == .halfOpen(probing: 1, succeeded: 0))
        #expect(breaker.admit(now: at(10)) == .call(probe: true))
        // Every probe is taken: others are refused meanwhile.
        #expect(breaker.admit(now: at(10)) == .refuse(retryAfter: .seconds(1)))
    }

    @Test func halfOpenClosesWhenEveryProbeSucceeds() {
        var breaker = opened()
        _ = breaker.admit(now: at(10))
        _ = breaker.admit(now: at(10))
        breaker.record(.healthy, probe: true, now: at(10.1))
        #expect(breaker.state == .halfOpen(probing: 1, succeeded: 1))
        breaker.record(.healthy, probe: true, now: at(10.2))
        #expect(breaker.state == .closed(failures: 0))
        #expect(breaker.admit(now: at(10.3)) == .call(probe: false))
    }

    @Test func aFailedProbeOpensItAgain() {
        var breaker = opened()
        _ = breaker.admit(now: at(10))
        breaker.record(.failing, probe: true, now: at(10.5))
        #expect(breaker.state == .open(until: at(20.5)))
        #expect(breaker.admit(now: at(11)) == .refuse(retryAfter: .milliseconds(9500)))
    }

    @Test func aProbeThatToldNothingGivesItsTurnBack() {
        var breaker = opened()
        _ = breaker.admit(now: at(10))
        _ = breaker.admit(now: at(10))
        breaker.record(.neutral, probe: true, now: at(10))
        #expect(breaker.admit(now: at(10)) == .call(probe: true))
    }

    @Test func lateAnswersOfCallsFromBeforeTheOpeningAreIgnored() {
        var breaker = opened()
        breaker.record(.healthy, probe: false, now: at(1))
        #expect(breaker.state == .open(until: at(10)))
    }

    @Test func aZeroThresholdNeverOpens() {
        var breaker = CircuitBreaker(CircuitBreakerSettings(failureThreshold: 0))
        for _ in 0..<100 { breaker.record(.failing, probe: false, now: at(0)) }
        #expect(breaker.admit(now: at(0)) == .call(probe: false))
    }
}

/// Rokt's `Retry-After`, both forms, capped.
@Suite struct RetryAfterTests {
    // 2026-12-05 12:00:00 UTC.
    let now: Int64 = 1_796_472_000_000

    @Test func delaySeconds() {
        #expect(RetryAfter.parse("7", nowMillis: now, cap: .seconds(60)) == .seconds(7))
        #expect(RetryAfter.parse(" 0 ", nowMillis: now, cap: .seconds(60)) == .zero)
        #expect(RetryAfter.parse("86400", nowMillis: now, cap: .seconds(60)) == .seconds(60))
        #expect(RetryAfter.parse("99999999999999999999999", nowMillis: now, cap: .seconds(60)) == .seconds(60))
    }

    @Test func httpDate() {
        #expect(RetryAfter.httpDateMillis("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
        #expect(RetryAfter.parse("Sat, 05 Dec 2026 12:00:30 GMT", nowMillis: now, cap: .seconds(60)) == .seconds(30))
        // A date in the past asks for no wait; one far ahead is capped.
        #expect(RetryAfter.parse("Sat, 05 Dec 2026 11:00:00 GMT", nowMillis: now, cap: .seconds(60)) == .zero)
        #expect(RetryAfter.parse("Sun, 06 Dec 2026 12:00:00 GMT", nowMillis: now, cap: .seconds(60)) == .seconds(60))
    }

    @Test func unreadableOrAbsent() {
        for value in [nil, "", "soon", "-5", "1.5", "Sat, 05 Dec 2026 12:00:30 UTC", "Saturday, 05-Dec-26 12:00:30 GMT"] {
            #expect(RetryAfter.parse(value, nowMillis: now, cap: .seconds(60)) == nil)
        }
    }
}
