import Synchronization

/// Why a call to Rokt was held back rather than sent.
public enum UpstreamHoldReason: String, Sendable, CaseIterable {
    /// The circuit breaker is open (or half-open with its probes taken).
    case circuitOpen = "circuit_open"
    /// Rokt answered 429 with `Retry-After`: every call waits until then.
    case paused = "rokt_retry_after"
    /// The call waited `maxWait` (or its own budget) for its turn under the outbound limits.
    case limiterWait = "limiter_wait"

    public var message: String {
        switch self {
        case .circuitOpen: "Rokt is failing; the gateway stopped calling it for a while (circuit open)"
        case .paused: "Rokt asked the gateway to slow down (429 with Retry-After); calls resume after it"
        case .limiterWait: "too many calls to Rokt are queued (outbound rate limit)"
        }
    }
}

/// Every bound the gateway keeps toward Rokt (README "Protecting Rokt").
public struct UpstreamProtectionSettings: Sendable, Equatable {
    public var limits: UpstreamLimits
    public var breaker: CircuitBreakerSettings
    /// The longest pause one 429's `Retry-After` imposes on every call.
    public var maxPause: Duration

    public init(limits: UpstreamLimits = .unlimited, breaker: CircuitBreakerSettings = CircuitBreakerSettings(), maxPause: Duration = .seconds(60)) {
        self.limits = limits
        self.breaker = breaker
        self.maxPause = maxPause
    }

    /// No limit, no breaker, no pause: the client's default when nothing is configured.
    public static let off = UpstreamProtectionSettings(maxPause: .zero)
}

/// What `UpstreamProtection` reports as it happens (the gateway logs state changes and counts the rest).
public enum UpstreamProtectionEvent: Sendable, Equatable {
    /// The circuit changed state (`closed`, `half_open`, `open`).
    case circuitChanged(from: String, to: String)
    /// Rokt's `Retry-After` paused every call for this long.
    case paused(Duration)
    case held(UpstreamHoldReason)
    /// A call waited this long for its turn (zero when it went at once).
    case waited(Duration)
}

/// The state of the protection for `/readyz` and `/metrics`.
public struct UpstreamProtectionSnapshot: Sendable, Equatable {
    /// `closed`, `half_open` or `open`.
    public var circuit: String
    /// 0 closed, 1 half-open, 2 open.
    public var circuitGauge: Int
    /// Until calls may go again (the circuit half-opens or the pause ends); nil when they may go.
    public var holdRemaining: Duration?
    public var inFlight: Int
    public var waiting: Int
}

/// The outbound limiter, the pause on Rokt's `Retry-After` and the circuit breaker, shared by
/// every call of one `RoktClient` (the engine's writes and callers' reads alike). It performs
/// what `UpstreamLimiter` and `CircuitBreaker` decide: waiters sleep on continuations, one timer
/// wakes them when a token comes, a pause ends or a deadline passes.
public final class UpstreamProtection: Sendable {
    /// A call allowed to go; hand it back to `finish`.
    struct Permit: Sendable {
        let probe: Bool
        let waited: Duration
    }

    private enum Answer {
        case go
        case refused(RoktError)
    }

    private struct State {
        var limiter: UpstreamLimiter
        var breaker: CircuitBreaker
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Answer, Never>] = [:]
        var timer: Task<Void, Never>?
        var timerAt: ContinuousClock.Instant?
    }

    public let settings: UpstreamProtectionSettings
    private let state: Mutex<State>
    private let now: @Sendable () -> ContinuousClock.Instant
    private let sleep: @Sendable (Duration) async throws -> Void
    private let observe: @Sendable (UpstreamProtectionEvent) -> Void

    public init(
        settings: UpstreamProtectionSettings = .off, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        observe: @escaping @Sendable (UpstreamProtectionEvent) -> Void = { _ in }
    ) {
        self.settings = settings
        self.now = now
        self.sleep = sleep
        self.observe = observe
        state = Mutex(State(limiter: UpstreamLimiter(settings.limits, now: now()), breaker: CircuitBreaker(settings.breaker)))
    }

    /// Waits for a call's turn, at most `maxWait` (or `budget` when shorter); refused at once
    /// while the circuit is open or a pause outlasts the wait.
    func admit(priority: UpstreamPriority, budget: Duration?) async -> Result<Permit, RoktError> {
        let started = now()
        let wait = min(settings.limits.maxWait, budget ?? settings.limits.maxWait)
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        var events: [UpstreamProtectionEvent] = []
        var probe = false
        let answer: Answer = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> Answer? in
                    let before = state.breaker.state.name
                    let verdict = state.breaker.admit(now: started)
                    if state.breaker.state.name != before { events.append(.circuitChanged(from: before, to: state.breaker.state.name)) }
                    switch verdict {
                    case .refuse(let retryAfter):
                        return .refused(.notSent(.circuitOpen, retryAfter: retryAfter))
                    case .call(let isProbe):
                        probe = isProbe
                    }
                    switch state.limiter.request(id: id, priority: priority, deadline: started + wait, now: started) {
                    case .proceed:
                        return .go
                    case .refuse(let retryAfter):
                        let paused = state.limiter.pausedUntil.map { $0 > started } ?? false
                        return .refused(.notSent(paused ? .paused : .limiterWait, retryAfter: retryAfter))
                    case .wait:
                        state.waiters[id] = continuation
                        armTimer(&state, now: started)
                        return nil
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                state.limiter.cancel(id: id)
                return state.waiters.removeValue(forKey: id)
            }
            continuation?.resume(returning: .refused(.notSent(.limiterWait, retryAfter: .seconds(1))))
        }
        for event in events { observe(event) }
        switch answer {
        case .go:
            let waited = now() - started
            observe(.waited(waited))
            return .success(Permit(probe: probe, waited: waited))
        case .refused(let error):
            if probe {
                // A probe the limiter refused (a pause, its wait ran out) gives its turn back.
                state.withLock { $0.breaker.record(.neutral, probe: true, now: now()) }
            }
            observe(.held(UpstreamHoldReason(rawValue: error.code ?? "") ?? .limiterWait))
            return .failure(error)
        }
    }

    /// A call admitted by `admit` has ended; `pause` is Rokt's `Retry-After` on a 429.
    func finish(_ permit: Permit, health: UpstreamCallHealth, pause: Duration?) {
        let at = now()
        var events: [UpstreamProtectionEvent] = []
        let granted = state.withLock { state in
            let before = state.breaker.state.name
            state.breaker.record(health, probe: permit.probe, now: at)
            if state.breaker.state.name != before { events.append(.circuitChanged(from: before, to: state.breaker.state.name)) }
            if let pause, pause > .zero, settings.maxPause > .zero {
                let length = min(pause, settings.maxPause)
                state.limiter.pause(until: at + length)
                events.append(.paused(length))
            }
            let ids = state.limiter.release(now: at)
            let granted = ids.compactMap { state.waiters.removeValue(forKey: $0) }
            armTimer(&state, now: at)
            return granted
        }
        for continuation in granted { continuation.resume(returning: .go) }
        for event in events { observe(event) }
    }

    /// How long until calls may go again (the circuit half-opens, Rokt's pause ends); nil when they may go now.
    public func holdRemaining() -> Duration? {
        let at = now()
        return state.withLock { state in
            let paused = state.limiter.pausedUntil.flatMap { $0 > at ? $0 - at : nil }
            switch (state.breaker.holdRemaining(now: at), paused) {
            case (let open?, let paused?): return max(open, paused)
            case (let open, let paused): return open ?? paused
            }
        }
    }

    public var snapshot: UpstreamProtectionSnapshot {
        let at = now()
        let hold = holdRemaining()
        return state.withLock { state in
            var circuit = state.breaker.state
            // Open with its time up: the next call is a probe.
            if case .open(let until) = circuit, until <= at { circuit = .halfOpen(probing: 0, succeeded: 0) }
            return UpstreamProtectionSnapshot(
                circuit: circuit.name, circuitGauge: circuit.gauge, holdRemaining: hold, inFlight: state.limiter.inFlight,
                waiting: state.limiter.waiting)
        }
    }

    // MARK: The timer

    /// Makes sure the timer fires by the limiter's next wake-up (a token, the end of a pause, a deadline).
    private func armTimer(_ state: inout State, now at: ContinuousClock.Instant) {
        guard let wake = state.limiter.nextWake(now: at) else { return }
        if let armed = state.timerAt, armed <= wake, state.timer != nil { return }
        state.timer?.cancel()
        state.timerAt = wake
        let delay = max(.zero, wake - at)
        state.timer = Task { [weak self] in
            do { try await self?.sleep(delay) } catch { return }
            self?.tick()
        }
    }

    private func tick() {
        let at = now()
        let (granted, expired, reason, retryAfter) = state.withLock { state in
            state.timer = nil
            state.timerAt = nil
            let granted = state.limiter.grant(now: at).compactMap { state.waiters.removeValue(forKey: $0) }
            let expired = state.limiter.expire(now: at).compactMap { state.waiters.removeValue(forKey: $0) }
            armTimer(&state, now: at)
            let pausedFor = state.limiter.pausedUntil.flatMap { $0 > at ? $0 - at : nil }
            return (granted, expired, pausedFor == nil ? UpstreamHoldReason.limiterWait : .paused, pausedFor ?? .seconds(1))
        }
        for continuation in granted { continuation.resume(returning: .go) }
        for continuation in expired { continuation.resume(returning: .refused(.notSent(reason, retryAfter: retryAfter))) }
    }
}
