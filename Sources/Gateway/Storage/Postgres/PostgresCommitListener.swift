import Postgres
import Synchronization

/// The one session that LISTENs on the commit channel for a store instance, outside the pool
/// (a pooled connection is shared, and LISTEN belongs to a session). Every notice another
/// instance sent is published to this process's observers. The session is reopened after any
/// failure (backoff 100 ms doubling to 5 s); on every (re)connect `.deliveriesDue` and
/// `.apiKeysChanged` are published, since notices sent while no session listened are lost and
/// the observers must re-read (the engine's own polling covers due jobs and ended operations).
final class PostgresCommitListener: Sendable {
    private struct State {
        var task: Task<Void, Never>?
        var connection: PostgresConnection?
        var stopped = false
    }

    private let configuration: PostgresConfiguration
    private let storeId: String
    private let broadcast: CommitBroadcast
    private let state = Mutex(State())
    private let census = Mutex(ReplicaCensus())

    /// This process and the others heard from lately (`ReplicaCensus`).
    var replicasWorking: Int { census.withLock { $0.working(at: .now) } }

    init(configuration: PostgresConfiguration, storeId: String, broadcast: CommitBroadcast) {
        (self.configuration, self.storeId, self.broadcast) = (configuration, storeId, broadcast)
    }

    /// The listening session's backend process while connected (tests end it to force a reconnect).
    var processID: Int32? { state.withLock { $0.connection?.processID } }

    /// Opens the first session and LISTENs before answering (so the store hears other replicas
    /// from the moment it is open), then keeps listening in a task; a failure here is retried there.
    func start() async {
        let first = await connectAndListen()
        let task = Task { await run(first: first) }
        state.withLock { $0.task = task }
    }

    /// Ends the session and waits for the loop to stop. Idempotent.
    func stop() async {
        let (task, connection) = state.withLock { state in
            state.stopped = true
            return (state.task, state.connection)
        }
        task?.cancel()
        await connection?.close()
        await task?.value
    }

    private func run(first: PostgresConnection?) async {
        var delay = ListenerBackoff.initial
        var session = first
        while !isStopped {
            if let connection = session {
                await listen(on: connection)
                await connection.close()
                delay = ListenerBackoff.initial
            }
            if isStopped { return }
            try? await Task.sleep(for: delay)
            delay = ListenerBackoff.next(after: delay)
            session = await connectAndListen()
        }
        await session?.close()
    }

    /// A new session that LISTENs on the channel, or nil when either step failed.
    private func connectAndListen() async -> PostgresConnection? {
        guard let connection = try? await PostgresConnection.connect(configuration) else { return nil }
        do {
            try await connection.simpleQuery("LISTEN \(PostgresCommitPayload.channel)")
            return connection
        } catch {
            await connection.close()
            return nil
        }
    }

    /// Until the session ends (or `stop`): first asks observers to re-read what notices they may
    /// have missed, then publishes other instances' notices.
    private func listen(on connection: PostgresConnection) async {
        let adopted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.connection = connection
            return true
        }
        guard adopted else { return }
        defer { state.withLock { $0.connection = nil } }
        broadcast.publish(.deliveriesDue)
        broadcast.publish(.apiKeysChanged)
        for await notification in connection.notifications where notification.channel == PostgresCommitPayload.channel {
            guard let (from, commit) = PostgresCommitPayload.decode(notification.payload), from != storeId else { continue }
            census.withLock { $0.heard(from, at: .now) }
            broadcast.publish(commit)
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }
}

/// The wait before reopening the listening session: 100 ms, doubled after each failure, at most 5 s.
enum ListenerBackoff {
    static let initial: Duration = .milliseconds(100)
    static let maximum: Duration = .seconds(5)

    static func next(after delay: Duration) -> Duration { min(delay * 2, maximum) }
}
