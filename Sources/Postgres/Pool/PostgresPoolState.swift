/// The pool's bookkeeping, free of I/O so that its rules are unit-tested without a server:
/// how many connections exist, which are idle, who waits, and what a release or a failed
/// connect hands to whom. Generic over the connection so tests can use plain values.
///
/// Rules: at most `maximum` connections exist (counting those being opened); an idle
/// connection is reused last-in first-out (the warm one; the others age out); waiters are
/// served first-come first-served; a slot freed by a discarded connection lets the first
/// waiter open a new one; a waiter with a deadline stops waiting once it has passed.
struct PostgresPoolState<Connection> {
    /// What an acquire does next.
    enum Acquire {
        /// Use this idle connection (idle since the instant given: old ones get a health check).
        case use(Connection, idleSince: ContinuousClock.Instant)
        /// A slot is reserved: open a new connection (report the outcome with `connected`/`connectFailed`).
        case connect
        /// Every slot is in use: wait in line under this ticket.
        case wait(ticket: UInt64)
        /// The pool is closed.
        case closed
    }

    /// What a release (or a failed connect) asks the caller to do.
    enum Handoff {
        /// Nothing: the connection went idle, or nobody waits.
        case none
        /// Give this connection to the waiter with this ticket.
        case give(Connection, ticket: UInt64)
        /// The waiter with this ticket may open a new connection (a slot was freed for it).
        case letConnect(ticket: UInt64)
    }

    let maximum: Int
    private(set) var idle: [(connection: Connection, since: ContinuousClock.Instant)] = []
    /// Connections that exist or are being opened (idle ones included).
    private(set) var open = 0
    private(set) var waiting: [UInt64] = []
    /// When waiting tickets give up, for those that gave a deadline.
    private var deadlines: [UInt64: ContinuousClock.Instant] = [:]
    private(set) var isClosed = false
    private var nextTicket: UInt64 = 0

    init(maximum: Int) { self.maximum = max(1, maximum) }

    var inUse: Int { open - idle.count }

    /// `deadline`: when a caller that must wait gives up (see `stopWaiting(expiredAt:)`).
    mutating func acquire(waitingUntil deadline: ContinuousClock.Instant? = nil) -> Acquire {
        if isClosed { return .closed }
        if let last = idle.popLast() { return .use(last.connection, idleSince: last.since) }
        if open < maximum {
            open += 1
            return .connect
        }
        nextTicket += 1
        waiting.append(nextTicket)
        if let deadline { deadlines[nextTicket] = deadline }
        return .wait(ticket: nextTicket)
    }

    /// The earliest deadline of those waiting, if any has one.
    var nextDeadline: ContinuousClock.Instant? { deadlines.values.min() }

    /// Waiters whose deadline is `now` or earlier stop waiting; their tickets go to the caller to fail.
    mutating func stopWaiting(expiredAt now: ContinuousClock.Instant) -> [UInt64] {
        let expired = Set(deadlines.filter { $0.value <= now }.keys)
        guard !expired.isEmpty else { return [] }
        for ticket in expired { deadlines[ticket] = nil }
        let tickets = waiting.filter(expired.contains)
        waiting.removeAll(where: expired.contains)
        return tickets
    }

    /// A connection comes back. `reusable`: healthy and outside any transaction.
    mutating func release(_ connection: Connection, reusable: Bool, at now: ContinuousClock.Instant) -> Handoff {
        if reusable, !isClosed {
            if !waiting.isEmpty { return .give(connection, ticket: served()) }
            idle.append((connection, now))
            return .none
        }
        return freeSlot()
    }

    /// A connect (reserved by `.connect` or `.letConnect`) failed, or a handed-out connection was dropped.
    mutating func freeSlot() -> Handoff {
        if !isClosed, !waiting.isEmpty { return .letConnect(ticket: served()) }
        open -= 1
        return .none
    }

    /// The first waiter leaves the line, served.
    private mutating func served() -> UInt64 {
        let ticket = waiting.removeFirst()
        deadlines[ticket] = nil
        return ticket
    }

    /// A waiter gave up (timeout, cancellation); false when it was already served.
    mutating func stopWaiting(_ ticket: UInt64) -> Bool {
        guard let index = waiting.firstIndex(of: ticket) else { return false }
        waiting.remove(at: index)
        deadlines[ticket] = nil
        return true
    }

    /// Idle connections idle since before `cutoff` leave the pool (the caller closes them).
    mutating func removeIdle(since cutoff: ContinuousClock.Instant) -> [Connection] {
        let (old, kept) = (idle.filter { $0.since < cutoff }, idle.filter { $0.since >= cutoff })
        idle = kept
        open -= old.count
        return old.map(\.connection)
    }

    /// Closes the pool: the idle connections and the waiters' tickets go to the caller to end.
    mutating func close() -> (idle: [Connection], waiters: [UInt64]) {
        isClosed = true
        let result = (idle.map(\.connection), waiting)
        open -= idle.count
        idle = []
        waiting = []
        deadlines = [:]
        return result
    }
}
