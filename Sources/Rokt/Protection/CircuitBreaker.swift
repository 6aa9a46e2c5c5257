/// When to stop calling Rokt for a while: after `failureThreshold` failed calls in a row (429,
/// 5xx, 408, timeouts, connection failures) the circuit opens for `openDuration`; then it is
/// half-open and lets `halfOpenProbes` calls through: that many successes close it, any failure
/// opens it again.
public struct CircuitBreakerSettings: Sendable, Equatable {
    /// Failed calls in a row that open the circuit; 0 turns the breaker off.
    public var failureThreshold: Int
    public var openDuration: Duration
    public var halfOpenProbes: Int

    public init(failureThreshold: Int = 0, openDuration: Duration = .seconds(10), halfOpenProbes: Int = 3) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
        self.halfOpenProbes = max(1, halfOpenProbes)
    }
}

/// What one call to Rokt says about Rokt's health.
public enum UpstreamCallHealth: Sendable, Equatable {
    /// Rokt answered (any status but 429, 408 and 5xx).
    case healthy
    /// 429, 408, 5xx, a timeout or a failed connection.
    case failing
    /// Tells nothing about Rokt (cancelled by us, our own pool exhausted…).
    case neutral
}

/// The circuit breaker's decisions, with no I/O: calls and their outcomes in, verdicts and state
/// changes out (`UpstreamProtection` performs and logs them).
struct CircuitBreaker {
    enum State: Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probing: Int, succeeded: Int)

        /// The gauge value: 0 closed, 1 half-open, 2 open.
        var gauge: Int {
            switch self {
            case .closed: 0
            case .halfOpen: 1
            case .open: 2
            }
        }

        var name: String {
            switch self {
            case .closed: "closed"
            case .halfOpen: "half_open"
            case .open: "open"
            }
        }
    }

    enum Verdict: Equatable {
        /// Call; `probe` when it is one of the half-open state's trial calls.
        case call(probe: Bool)
        /// Do not call: the circuit is open (or half-open with every probe taken) for about this long.
        case refuse(retryAfter: Duration)
    }

    let settings: CircuitBreakerSettings
    private(set) var state = State.closed(failures: 0)

    init(_ settings: CircuitBreakerSettings) { self.settings = settings }

    /// Whether a call may go now. Moves an open circuit whose time is up to half-open.
    mutating func admit(now: ContinuousClock.Instant) -> Verdict {
        switch state {
        case .closed:
            return .call(probe: false)
        case .open(let until) where now < until:
            return .refuse(retryAfter: until - now)
        case .open:
            state = .halfOpen(probing: 1, succeeded: 0)
            return .call(probe: true)
        case .halfOpen(let probing, let succeeded):
            guard probing + succeeded < settings.halfOpenProbes else { return .refuse(retryAfter: .seconds(1)) }
            state = .halfOpen(probing: probing + 1, succeeded: succeeded)
            return .call(probe: true)
        }
    }

    /// A call's outcome (`probe` as `admit` said).
    mutating func record(_ health: UpstreamCallHealth, probe: Bool, now: ContinuousClock.Instant) {
        switch (state, health) {
        case (.closed, .healthy):
            state = .closed(failures: 0)
        case (.closed(let failures), .failing):
            let failures = failures + 1
            state = settings.failureThreshold > 0 && failures >= settings.failureThreshold ? .open(until: now + settings.openDuration) : .closed(failures: failures)
        case (.halfOpen, .failing) where probe:
            state = .open(until: now + settings.openDuration)
        case (.halfOpen(let probing, let succeeded), .healthy) where probe:
            state =
                succeeded + 1 >= settings.halfOpenProbes ? .closed(failures: 0) : .halfOpen(probing: max(0, probing - 1), succeeded: succeeded + 1)
        case (.halfOpen(let probing, let succeeded), .neutral) where probe:
            // The probe told nothing: its turn goes to another call.
            state = .halfOpen(probing: max(0, probing - 1), succeeded: succeeded)
        default:
            // A call admitted before the circuit changed state: its outcome is about a Rokt we no longer judge by.
            break
        }
    }

    /// How long until calls may go again (nil: they may go now).
    func holdRemaining(now: ContinuousClock.Instant) -> Duration? {
        if case .open(let until) = state, until > now { return until - now }
        return nil
    }
}
