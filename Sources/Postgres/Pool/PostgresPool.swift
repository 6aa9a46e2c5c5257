import Synchronization

/// How a `PostgresPool` sizes and checks its connections.
public struct PostgresPoolOptions: Sendable, Equatable {
    /// Connections open at most (each is a server process: size against `max_connections`
    /// divided by the replicas).
    public var maximumConnections = 10
    /// How long a caller waits for a connection when all are in use before `.acquireTimedOut`.
    public var acquireTimeout: Duration = .seconds(10)
    /// A connection idle longer than this is checked with a round trip before it is handed out
    /// (a server restart or a proxy's idle cut shows up there, not in the caller's query).
    public var healthCheckAfterIdle: Duration = .seconds(30)
    /// Idle connections unused this long are closed (checked on each release).
    public var maximumIdleTime: Duration = .seconds(300)
    /// Session settings applied to every new connection with SET, e.g. `statement_timeout`:
    /// a runaway statement or a forgotten transaction cannot hold locks forever.
    public var sessionSettings: [String: String] = [
        "statement_timeout": "30s", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "60s",
    ]

    public init() {}
}

/// Why the pool could not give a connection or finish a transaction.
public enum PostgresPoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every connection stayed in use for `acquireTimeout`.
    case acquireTimedOut(Duration)
    /// The pool was closed.
    case closed
    /// The server ended the transaction with ROLLBACK at COMMIT (a statement inside it had
    /// failed and the error was not thrown on): nothing of it was kept.
    case rolledBack

    public var description: String {
        switch self {
        case .acquireTimedOut(let wait): "no PostgreSQL connection became free within \(wait)"
        case .closed: "the PostgreSQL connection pool is closed"
        case .rolledBack: "PostgreSQL rolled the transaction back at COMMIT"
        }
    }
}

/// A bounded set of sessions with one server, shared by every task of the process.
///
/// A caller borrows a connection for the length of a closure and is the only one to use it
/// meanwhile. A connection is dropped, never reused, when it is closed or the closure left it
/// inside a transaction; a new one takes its slot on demand (reconnecting is just connecting
/// again). Callers queue first-come first-served when every slot is busy. LISTEN needs a
/// session of its own: open it with `PostgresConnection.connect`, not from the pool.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    public let options: PostgresPoolOptions
    private typealias Grant = Result<PostgresConnection?, PostgresPoolError>
    private struct Guarded {
        var state: PostgresPoolState<PostgresConnection>
        /// Waiters' continuations by ticket: resumed with a connection, or nil to open one.
        var waiters: [UInt64: CheckedContinuation<Grant, Never>] = [:]
        /// Grants for tickets served before their waiter registered its continuation.
        var early: [UInt64: Grant] = [:]
        /// The task that fails waiters past `acquireTimeout` runs (only while someone waits).
        var timing = false
        /// Such tasks started so far (for tests).
        var timersStarted = 0

        /// The continuation to resume for a handoff, or nil when the grant waits in `early`.
        mutating func resolve(_ handoff: PostgresPoolState<PostgresConnection>.Handoff) -> (CheckedContinuation<Grant, Never>, Grant)? {
            let (ticket, grant): (UInt64, Grant)
            switch handoff {
            case .none: return nil
            case .give(let connection, let served): (ticket, grant) = (served, .success(connection))
            case .letConnect(let served): (ticket, grant) = (served, .success(nil))
            }
            guard let waiter = waiters.removeValue(forKey: ticket) else {
                early[ticket] = grant
                return nil
            }
            return (waiter, grant)
        }
    }
    private let guarded: Mutex<Guarded>

    public init(configuration: PostgresConfiguration, options: PostgresPoolOptions = PostgresPoolOptions()) {
        self.configuration = configuration
        self.options = options
        guarded = Mutex(Guarded(state: PostgresPoolState(maximum: options.maximumConnections)))
    }

    /// Connections open, idle and in use, and callers waiting (for metrics).
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        guarded.withLock { ($0.state.open, $0.state.idle.count, $0.state.waiting.count) }
    }

    /// Tasks started to time waiters out, and whether one runs (for tests).
    var waiterTiming: (started: Int, running: Bool) { guarded.withLock { ($0.timersStarted, $0.timing) } }

    /// Lends a healthy connection to `body`. Errors from `body` are thrown as they are.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// BEGIN, `body`, COMMIT on one connection; ROLLBACK when `body` throws (its error is
    /// rethrown). When COMMIT's outcome is unknown (the connection died during it) the error
    /// says so through `PostgresConnectionError.closed`: the caller must not assume either way.
    @discardableResult
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.simpleQuery("BEGIN")
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // A dead connection has rolled back on the server already; it is dropped on release.
                if !connection.isClosed { _ = try? await connection.simpleQuery("ROLLBACK") }
                throw error
            }
            let commit = try await connection.simpleQuery("COMMIT")
            if commit.last?.commandTag == "ROLLBACK" { throw PostgresPoolError.rolledBack }
            return value
        }
    }

    /// Closes idle connections at once and the others as they come back; waiters get `.closed`.
    public func close() async {
        let (idle, waiters) = guarded.withLock { guarded -> ([PostgresConnection], [CheckedContinuation<Grant, Never>]) in
            let (idle, tickets) = guarded.state.close()
            let waiters = tickets.compactMap { guarded.waiters.removeValue(forKey: $0) }
            return (idle, waiters)
        }
        for waiter in waiters { waiter.resume(returning: .failure(.closed)) }
        for connection in idle { await connection.close() }
    }

    // MARK: Borrowing

    private func acquire() async throws -> PostgresConnection {
        while true {
            let (step, startTimer) = guarded.withLock { guarded in
                let step = guarded.state.acquire(waitingUntil: .now + options.acquireTimeout)
                guard case .wait = step, !guarded.timing else { return (step, false) }
                guarded.timing = true
                guarded.timersStarted += 1
                return (step, true)
            }
            if startTimer { startTimingOutWaiters() }
            switch step {
            case .closed: throw PostgresPoolError.closed
            case .connect: return try await connectInSlot()
            case .use(let connection, let since):
                if let healthy = await checked(connection, idleSince: since) { return healthy }
                // Dropped: its slot is free again; go round (another idle one, or a new connection).
                dropSlot()
            case .wait(let ticket):
                switch try await wait(ticket) {
                case .some(let connection): return connection
                case .none: return try await connectInSlot()
                }
            }
        }
    }

    /// The connection if it is still usable: a closed one is not; one idle for long is pinged.
    private func checked(_ connection: PostgresConnection, idleSince: ContinuousClock.Instant) async -> PostgresConnection? {
        if connection.isClosed { return nil }
        guard ContinuousClock.now - idleSince > options.healthCheckAfterIdle else { return connection }
        do {
            try await connection.simpleQuery("SELECT 1", timeout: .seconds(5))
            return connection
        } catch {
            await connection.close()
            return nil
        }
    }

    /// Opens a connection in a slot already reserved; on failure the slot goes to the next waiter.
    private func connectInSlot() async throws -> PostgresConnection {
        do {
            let connection = try await PostgresConnection.connect(configuration)
            do {
                if !options.sessionSettings.isEmpty { try await connection.simpleQuery(Self.settingsSQL(options.sessionSettings)) }
            } catch {
                await connection.close()
                throw error
            }
            return connection
        } catch {
            dropSlot()
            throw error
        }
    }

    /// `SET name = 'value'; …` with each value quoted as a string literal (names are ours, never input).
    static func settingsSQL(_ settings: [String: String]) -> String {
        settings.sorted { $0.key < $1.key }.map { name, value in
            "SET \(name) = '\(value.replacing("'", with: "''"))'"
        }.joined(separator: "; ")
    }

    private func wait(_ ticket: UInt64) async throws -> PostgresConnection? {
        let timeout = options.acquireTimeout
        let grant = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Grant, Never>) in
                let early = guarded.withLock { guarded -> Grant? in
                    // Served, closed or given up on between `acquire` and here.
                    if let grant = guarded.early.removeValue(forKey: ticket) { return grant }
                    guard guarded.state.waiting.contains(ticket) else { return .failure(guarded.state.isClosed ? .closed : .acquireTimedOut(timeout)) }
                    guarded.waiters[ticket] = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            abandon(ticket, with: .acquireTimedOut(.zero))
        }
        if Task.isCancelled, case .success(let connection) = grant {
            // Served and cancelled in the same instant: hand it back, then report the cancellation.
            if let connection { release(connection) } else { dropSlot() }
            throw CancellationError()
        }
        return try grant.get()
    }

    /// One task times every waiter out, sleeping until the earliest deadline, and ends when
    /// nobody waits: a timer task per wait cost two thread wake-ups per query under load.
    private func startTimingOutWaiters() {
        Task { [weak self] in
            while let deadline = self?.nextWaiterDeadline() {
                try? await Task.sleep(until: deadline, clock: .continuous)
                self?.failExpiredWaiters()
            }
        }
    }

    /// The earliest waiter's deadline; nil (and the timing task ends) when nobody waits.
    private func nextWaiterDeadline() -> ContinuousClock.Instant? {
        guarded.withLock { guarded in
            let next = guarded.state.nextDeadline
            if next == nil { guarded.timing = false }
            return next
        }
    }

    private func failExpiredWaiters() {
        let timeout = options.acquireTimeout
        let waiters = guarded.withLock { guarded in
            guarded.state.stopWaiting(expiredAt: .now).compactMap { guarded.waiters.removeValue(forKey: $0) }
        }
        for waiter in waiters { waiter.resume(returning: .failure(.acquireTimedOut(timeout))) }
    }

    /// A waiter stops waiting; when it had already been served, nothing happens here.
    private func abandon(_ ticket: UInt64, with error: PostgresPoolError) {
        let waiter = guarded.withLock { guarded -> CheckedContinuation<Grant, Never>? in
            guard guarded.state.stopWaiting(ticket) else { return nil }
            return guarded.waiters.removeValue(forKey: ticket)
        }
        waiter?.resume(returning: .failure(error))
    }

    private func release(_ connection: PostgresConnection) {
        let reusable = !connection.isClosed && connection.transactionStatus == .idle
        let (served, expired) = guarded.withLock { guarded in
            let served = guarded.resolve(guarded.state.release(connection, reusable: reusable, at: .now))
            let expired = guarded.state.removeIdle(since: .now - options.maximumIdleTime)
            return (served, expired)
        }
        if let (waiter, grant) = served { waiter.resume(returning: grant) }
        if !reusable || !expired.isEmpty {
            let closing = reusable ? expired : expired + [connection]
            Task { for connection in closing { await connection.close() } }
        }
    }

    private func dropSlot() {
        if let (waiter, grant) = guarded.withLock({ $0.resolve($0.state.freeSlot()) }) { waiter.resume(returning: grant) }
    }
}
