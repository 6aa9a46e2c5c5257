/// How fast and how many calls at once we send to Rokt, whoever asks: one token serves every
/// caller, so one flooding caller must not get the whole platform rate-limited by Rokt.
public struct UpstreamLimits: Sendable, Equatable {
    /// Calls started per second on average (a token bucket); 0 turns the rate limit off.
    public var requestsPerSecond: Double
    /// Calls that may start back to back after a quiet spell (the bucket's size).
    public var burst: Int
    /// Calls in flight at once; 0 turns the bound off.
    public var maxConcurrent: Int
    /// The longest a call waits for its turn before it is refused (a read then answers 503).
    public var maxWait: Duration

    public init(requestsPerSecond: Double = 0, burst: Int = 1, maxConcurrent: Int = 0, maxWait: Duration = .seconds(5)) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = max(1, burst)
        self.maxConcurrent = maxConcurrent
        self.maxWait = maxWait
    }

    /// No limit at all (the client's default when nothing is configured).
    public static let unlimited = UpstreamLimits()
}

/// Who is waiting for a call to Rokt. A caller waiting on a read goes first; the engine's
/// background work is durable and can wait, but it is never passed over more than
/// `UpstreamLimiter.maxPassOver` times in a row, so a flood of reads cannot starve it.
public enum UpstreamPriority: Sendable, Equatable {
    case interactive, background

    /// The priority of calls made by the current task (the engine's job runs set `background`).
    @TaskLocal public static var current: UpstreamPriority = .interactive
}

/// The admission of calls to Rokt, with no I/O: a token bucket, a bound on calls in flight, a
/// first-come queue per priority with a deadline per waiter, and a pause (Rokt's `Retry-After`
/// on a 429 holds every call until then). `UpstreamProtection` performs what it decides.
struct UpstreamLimiter {
    enum Admission: Equatable {
        /// Go now (a token and a slot are taken; `release` gives the slot back).
        case proceed
        /// Queued under the id: a later `grant` or `expire` answers it.
        case wait
        /// Cannot go before its deadline (a pause outlasts it): refused at once.
        case refuse(retryAfter: Duration)
    }

    static let maxPassOver = 4

    private struct Waiter {
        var id: UInt64
        var deadline: ContinuousClock.Instant
    }

    let limits: UpstreamLimits
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant
    private(set) var inFlight = 0
    private var interactive: [Waiter] = []
    private var background: [Waiter] = []
    /// Interactive grants in a row while a background call was waiting.
    private var passedOver = 0
    private(set) var pausedUntil: ContinuousClock.Instant?

    init(_ limits: UpstreamLimits, now: ContinuousClock.Instant) {
        self.limits = limits
        tokens = Double(limits.burst)
        refilledAt = now
    }

    var waiting: Int { interactive.count + background.count }

    mutating func request(id: UInt64, priority: UpstreamPriority, deadline: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Admission {
        refill(now)
        if let pausedUntil, pausedUntil > now, deadline < pausedUntil { return .refuse(retryAfter: pausedUntil - now) }
        if waiting == 0, canStart(now) {
            take()
            return .proceed
        }
        guard deadline > now else { return .refuse(retryAfter: retryHint(now)) }
        let waiter = Waiter(id: id, deadline: deadline)
        if priority == .interactive { interactive.append(waiter) } else { background.append(waiter) }
        return .wait
    }

    /// A call that proceeded has finished.
    mutating func release(now: ContinuousClock.Instant) -> [UInt64] {
        inFlight = max(0, inFlight - 1)
        return grant(now: now)
    }

    /// Waiters that may go now, in turn (each has its token and slot).
    mutating func grant(now: ContinuousClock.Instant) -> [UInt64] {
        refill(now)
        var granted: [UInt64] = []
        while waiting > 0, canStart(now) {
            take()
            granted.append(popNext().id)
        }
        return granted
    }

    /// Waiters whose deadline has passed, removed: they are refused.
    mutating func expire(now: ContinuousClock.Instant) -> [UInt64] {
        let expired = (interactive + background).filter { $0.deadline <= now }.map(\.id)
        guard !expired.isEmpty else { return [] }
        interactive.removeAll { $0.deadline <= now }
        background.removeAll { $0.deadline <= now }
        return expired
    }

    /// A waiter that gave up (its task was cancelled).
    mutating func cancel(id: UInt64) {
        interactive.removeAll { $0.id == id }
        background.removeAll { $0.id == id }
    }

    /// No call starts before `until` (a later pause wins over an earlier one).
    mutating func pause(until: ContinuousClock.Instant) {
        if pausedUntil.map({ $0 < until }) ?? true { pausedUntil = until }
    }

    /// When to look again: the next token, the end of a pause, or the first deadline (nil: nothing waits).
    func nextWake(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard waiting > 0 else { return nil }
        var wake = (interactive + background).map(\.deadline).min()!
        if let pausedUntil, pausedUntil > now { return min(wake, pausedUntil) }
        if limits.requestsPerSecond > 0, tokens < 1 {
            let seconds = (1 - tokens) / limits.requestsPerSecond
            wake = min(wake, refilledAt + .nanoseconds(Int64((seconds * 1e9).rounded(.up))))
        }
        return wake
    }

    // MARK: Internals

    private func canStart(_ now: ContinuousClock.Instant) -> Bool {
        if let pausedUntil, pausedUntil > now { return false }
        if limits.maxConcurrent > 0, inFlight >= limits.maxConcurrent { return false }
        return limits.requestsPerSecond <= 0 || tokens >= 1
    }

    private mutating func take() {
        inFlight += 1
        if limits.requestsPerSecond > 0 { tokens -= 1 }
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        if let pausedUntil, pausedUntil <= now { self.pausedUntil = nil }
        guard limits.requestsPerSecond > 0, now > refilledAt else { return }
        let (seconds, attoseconds) = (now - refilledAt).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        tokens = min(Double(limits.burst), tokens + elapsed * limits.requestsPerSecond)
        refilledAt = now
    }

    private mutating func popNext() -> Waiter {
        let backgroundTurn = background.first != nil && (interactive.isEmpty || passedOver >= Self.maxPassOver)
        if backgroundTurn {
            passedOver = 0
            return background.removeFirst()
        }
        if !background.isEmpty { passedOver += 1 }
        return interactive.removeFirst()
    }

    /// How long a refused caller should wait before trying again.
    private func retryHint(_ now: ContinuousClock.Instant) -> Duration {
        if let pausedUntil, pausedUntil > now { return pausedUntil - now }
        return .seconds(1)
    }
}
