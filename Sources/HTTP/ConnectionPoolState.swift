/// The bookkeeping of one host's connection pool, with no I/O: events in, actions out
/// (the shell in `HTTPClient` performs them). Generic so tests drive it with plain objects.
///
/// Invariant: `idle.count + leased + connecting == total <= maxConnections`, and a waiter
/// exists only while `total == maxConnections` and `idle` is empty.
struct ConnectionPoolState<Connection: AnyObject> {
    enum AcquireAction {
        case use(Connection)
        /// The caller opens a new connection (a slot is reserved for it).
        case connect
        /// The caller waits under `waiterId` until `release` or `connectFailed` serves it.
        case wait
    }

    enum WakeAction {
        case none
        case use(waiterId: UInt64, Connection)
        /// A slot freed up: that waiter should open a connection of its own.
        case connect(waiterId: UInt64)
    }

    let maxConnections: Int
    private(set) var idle: [Connection] = []
    private(set) var total = 0
    private(set) var waiters: [UInt64] = []

    init(maxConnections: Int) { self.maxConnections = max(1, maxConnections) }

    mutating func acquire(waiterId: UInt64) -> AcquireAction {
        if let connection = idle.popLast() { return .use(connection) }  // most recently used: least likely stale
        if total < maxConnections {
            total += 1
            return .connect
        }
        waiters.append(waiterId)
        return .wait
    }

    /// A leased connection comes back; `reusable` false when it was closed.
    mutating func release(_ connection: Connection, reusable: Bool) -> WakeAction {
        if reusable {
            if !waiters.isEmpty { return .use(waiterId: waiters.removeFirst(), connection) }
            idle.append(connection)
            return .none
        }
        total -= 1
        return slotFreed()
    }

    /// A connection attempt failed: its slot is free again.
    mutating func connectFailed() -> WakeAction {
        total -= 1
        return slotFreed()
    }

    /// An idle connection died (peer closed, idle timeout).
    mutating func idleClosed(_ connection: Connection) -> WakeAction {
        guard let index = idle.firstIndex(where: { $0 === connection }) else { return .none }
        idle.remove(at: index)
        total -= 1
        return slotFreed()
    }

    /// The waiter gave up; false if it was already served (the caller then owns what it was given).
    mutating func cancelWaiter(_ id: UInt64) -> Bool {
        guard let index = waiters.firstIndex(of: id) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Empties the pool for shutdown; returns the idle connections to close and the waiters to fail.
    mutating func drain() -> (idle: [Connection], waiters: [UInt64]) {
        defer {
            total -= idle.count
            idle = []
            waiters = []
        }
        return (idle, waiters)
    }

    private mutating func slotFreed() -> WakeAction {
        guard !waiters.isEmpty else { return .none }
        total += 1
        return .connect(waiterId: waiters.removeFirst())
    }
}
