import Synchronization
import Testing
@testable import Rokt

/// The shell around the limiter and the breaker, on a clock the test moves; its timer sleeps
/// until cancelled, so only `finish` lets a waiter go.
@Suite struct UpstreamProtectionTests {
    final class ManualClock: Sendable {
        let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    }

    final class Events: Sendable {
        let list = Mutex<[UpstreamProtectionEvent]>([])
        var all: [UpstreamProtectionEvent] { list.withLock { $0 } }
        func append(_ event: UpstreamProtectionEvent) { list.withLock { $0.append(event) } }
    }

    static func protection(_ settings: UpstreamProtectionSettings, clock: ManualClock, events: Events = Events()) -> UpstreamProtection {
        UpstreamProtection(
            settings: settings, now: { clock.now }, sleep: { _ in try await Task.sleep(for: .seconds(3600)) },
            observe: { events.append($0) })
    }

    @Test func failuresOpenTheCircuitAndCallsAreRefusedUntilItHalfOpens() async throws {
        let clock = ManualClock()
        let events = Events()
        let protection = Self.protection(
            UpstreamProtectionSettings(breaker: CircuitBreakerSettings(failureThreshold: 2, openDuration: .seconds(10), halfOpenProbes: 1)),
            clock: clock, events: events)
        for _ in 0..<2 {
            let permit = try await protection.admit(priority: .interactive, budget: nil).get()
            protection.finish(permit, health: .failing, pause: nil)
        }
        #expect(protection.snapshot.circuit == "open")
        #expect(protection.snapshot.circuitGauge == 2)
        #expect(protection.holdRemaining() == .seconds(10))
        clock.advance(.seconds(4))
        let refused = await protection.admit(priority: .interactive, budget: nil)
        #expect(throws: RoktError.notSent(.circuitOpen, retryAfter: .seconds(6))) { try refused.get() }
        clock.advance(.seconds(6))
        #expect(protection.snapshot.circuit == "half_open")
        let probe = try await protection.admit(priority: .background, budget: nil).get()
        protection.finish(probe, health: .healthy, pause: nil)
        #expect(protection.snapshot.circuit == "closed")
        #expect(
            events.all.filter { if case .circuitChanged = $0 { true } else { false } } == [
                .circuitChanged(from: "closed", to: "open"), .circuitChanged(from: "open", to: "half_open"),
                .circuitChanged(from: "half_open", to: "closed"),
            ])
        #expect(events.all.contains(.held(.circuitOpen)))
    }

    @Test func rokt429RetryAfterPausesEveryCall() async throws {
        let clock = ManualClock()
        let events = Events()
        let protection = Self.protection(UpstreamProtectionSettings(maxPause: .seconds(60)), clock: clock, events: events)
        let permit = try await protection.admit(priority: .background, budget: nil).get()
        protection.finish(permit, health: .failing, pause: .seconds(120))
        // Capped at maxPause.
        #expect(protection.holdRemaining() == .seconds(60))
        #expect(events.all.contains(.paused(.seconds(60))))
        clock.advance(.seconds(30))
        // A read that cannot wait 30 s is refused at once, with the time left.
        let read = await protection.admit(priority: .interactive, budget: .seconds(1))
        #expect(throws: RoktError.notSent(.paused, retryAfter: .seconds(30))) { try read.get() }
        clock.advance(.seconds(30))
        #expect(protection.holdRemaining() == nil)
        _ = try await protection.admit(priority: .interactive, budget: .seconds(1)).get()
    }

    @Test func aWaitingCallGoesWhenAnotherFinishes() async throws {
        let clock = ManualClock()
        let protection = Self.protection(
            UpstreamProtectionSettings(limits: UpstreamLimits(maxConcurrent: 1, maxWait: .seconds(5))), clock: clock)
        let first = try await protection.admit(priority: .interactive, budget: nil).get()
        let second = Task { await protection.admit(priority: .interactive, budget: nil) }
        while protection.snapshot.waiting == 0 { await Task.yield() }
        #expect(protection.snapshot.inFlight == 1)
        clock.advance(.milliseconds(250))
        protection.finish(first, health: .healthy, pause: nil)
        let permit = try await second.value.get()
        #expect(permit.waited == .milliseconds(250))
        #expect(protection.snapshot.waiting == 0)
    }

    @Test func aCallWaitingPastItsDeadlineGetsAClearError() async throws {
        let clock = ManualClock()
        let events = Events()
        // The timer's sleep moves the clock by what it sleeps: time passes exactly as the timer asks.
        let protection = UpstreamProtection(
            settings: UpstreamProtectionSettings(limits: UpstreamLimits(requestsPerSecond: 1, burst: 1, maxWait: .seconds(5))),
            now: { clock.now }, sleep: { clock.advance($0) }, observe: { events.append($0) })
        _ = try await protection.admit(priority: .interactive, budget: nil).get()
        // The next token is a second away: a call with a 300 ms budget waits those 300 ms, then is refused.
        let refused = await protection.admit(priority: .interactive, budget: .milliseconds(300))
        #expect(throws: RoktError.notSent(.limiterWait, retryAfter: .seconds(1))) { try refused.get() }
        #expect(events.all.contains(.held(.limiterWait)))
        // One that can wait gets the token when it comes.
        let started = clock.now
        let permit = try await protection.admit(priority: .background, budget: nil).get()
        #expect(clock.now - started == .milliseconds(700))
        #expect(permit.waited == .milliseconds(700))
    }

    @Test func offLetsEverythingThrough() async throws {
        let clock = ManualClock()
        let protection = Self.protection(.off, clock: clock)
        for _ in 0..<100 {
            let permit = try await protection.admit(priority: .interactive, budget: .zero).get()
            protection.finish(permit, health: .failing, pause: .seconds(30))
        }
        #expect(protection.holdRemaining() == nil)
        #expect(protection.snapshot.circuit == "closed")
    }
}
