/// Which other gateway processes share the store, from the notices they send: a process is
/// counted while it was heard within `horizon`. Only working processes send notices (a submit
/// that made a job due, a round's endings), so this counts the replicas sharing the work, which
/// is what the engine divides its minimum concurrency by. Pure: instants are given.
struct ReplicaCensus: Sendable {
    static let horizon: Duration = .seconds(10)
    /// Senders remembered at most; beyond, the longest silent is forgotten first.
    static let maximumSenders = 1_024

    private var lastHeard: [String: ContinuousClock.Instant] = [:]

    /// A notice from `sender` (another process's store id) arrived at `now`.
    mutating func heard(_ sender: String, at now: ContinuousClock.Instant) {
        lastHeard[sender] = now
        guard lastHeard.count > Self.maximumSenders else { return }
        forget(before: now - Self.horizon)
        if lastHeard.count > Self.maximumSenders, let oldest = lastHeard.min(by: { $0.value < $1.value })?.key {
            lastHeard[oldest] = nil
        }
    }

    /// This process and the others heard within `horizon` before `now`.
    mutating func working(at now: ContinuousClock.Instant) -> Int {
        forget(before: now - Self.horizon)
        return 1 + lastHeard.count
    }

    private mutating func forget(before cutoff: ContinuousClock.Instant) {
        lastHeard = lastHeard.filter { $0.value >= cutoff }
    }
}
