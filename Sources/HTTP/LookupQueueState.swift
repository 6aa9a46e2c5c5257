/// Admission of name lookups onto a fixed number of blocking workers: at most `maxRunning` run
/// at once, at most `maxQueued` wait, the rest are refused. A waiting lookup whose caller gave up
/// leaves the queue; a running one cannot be stopped (getaddrinfo has no cancel) and keeps its
/// worker until it returns. Pure state: the resolver drives it under its lock.
struct LookupQueueState: Sendable {
    enum Admission: Equatable, Sendable {
        /// A worker is free: run it now.
        case run
        /// Every worker is busy: it runs when `finish` hands it out.
        case queued
        /// The queue is full too.
        case refused
    }

    let maxRunning: Int
    let maxQueued: Int
    private(set) var running = 0
    /// Waiting lookups, oldest first.
    private(set) var waiting: [UInt64] = []

    init(maxRunning: Int, maxQueued: Int) {
        precondition(maxRunning > 0 && maxQueued >= 0, "a lookup pool needs a worker and a non-negative queue")
        self.maxRunning = maxRunning
        self.maxQueued = maxQueued
    }

    mutating func admit(_ id: UInt64) -> Admission {
        if running < maxRunning {
            running += 1
            return .run
        }
        guard waiting.count < maxQueued else { return .refused }
        waiting.append(id)
        return .queued
    }

    /// The caller of a lookup gave up; true when it was still waiting (so it will never run).
    mutating func withdraw(_ id: UInt64) -> Bool {
        guard let index = waiting.firstIndex(of: id) else { return false }
        waiting.remove(at: index)
        return true
    }

    /// A running lookup returned: its worker takes the oldest waiting one, if any.
    mutating func finish() -> UInt64? {
        precondition(running > 0, "finish without a running lookup")
        if waiting.isEmpty {
            running -= 1
            return nil
        }
        return waiting.removeFirst()
    }
}
