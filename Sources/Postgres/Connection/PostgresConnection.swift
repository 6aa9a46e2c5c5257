#if canImport(Glibc)
    import Glibc
#endif
import HTTP
import Synchronization

/// One session with a PostgreSQL server (frontend/backend protocol 3.0).
///
/// I/O design: a thread of its own opens the session (connect, TLS, startup and authentication
/// as straight-line code with poll(2) deadlines: a slow name lookup, SCRAM key derivation or
/// connect stalls only this connection), then hands the socket to an event loop of the process's
/// group (the HTTP server's), which reads it from then on: notifications and a server's FATAL
/// arrive while idle, and a reply resumes its caller from the loop, so a caller running on that
/// loop continues without a thread switch. Callers never block: they queue a request under a
/// lock and suspend on a continuation; while the session is idle, a caller writes its request on
/// a plain socket itself.
///
/// Queries run one at a time, in the order they were submitted (a FIFO of waiting callers).
public final class PostgresConnection: Sendable {
    /// The server's backend process, as `pg_backend_pid()` and notifications name it.
    public let processID: Int32
    /// NOTIFY messages for channels this session LISTENs on, as they arrive; finishes when the
    /// connection closes. One consumer.
    public let notifications: AsyncStream<PostgresNotification>
    let state: PostgresConnectionState

    private init(processID: Int32, notifications: AsyncStream<PostgresNotification>, state: PostgresConnectionState) {
        (self.processID, self.notifications, self.state) = (processID, notifications, state)
    }

    deinit { state.requestClose() }

    /// Connects to the first endpoint that accepts (libpq's host list), negotiates TLS as
    /// `sslMode` says, authenticates and waits for ReadyForQuery.
    /// `group`: the event loops the session runs on once open (one of them, round-robin).
    public static func connect(_ configuration: PostgresConfiguration, group: EventLoopGroup = .shared) async throws(PostgresConnectionError) -> PostgresConnection {
        let (notifications, sink) = AsyncStream<PostgresNotification>.makeStream()
        let state = PostgresConnectionState(notifications: sink)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int32, PostgresConnectionError>, Never>) in
            PostgresConnectionDriver.start(configuration: configuration, group: group, state: state) { continuation.resume(returning: $0) }
        }
        return PostgresConnection(processID: try result.get(), notifications: notifications, state: state)
    }

    /// Runs `sql` with `parameters` ($1, $2…) by the extended query protocol: Parse, Bind,
    /// Describe, Execute and Sync in one write, unnamed. Parameters travel apart from the SQL,
    /// never interpolated. Throws `PostgresError` for the server's refusal (the connection stays
    /// usable) and `PostgresConnectionError` for the rest. `timeout` counts from this call;
    /// when it passes the server is asked to cancel the query.
    public func query(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Duration? = nil) async throws -> PostgresQueryResult {
        try await pipeline([PostgresStatement(sql, parameters)], timeout: timeout)[0]
    }

    /// Runs `statements` in order in one round trip: each one's Bind, Describe and Execute (after
    /// its Parse the first time: see `PostgresPreparedStatements`), then a single Sync, all in one
    /// write; answers one result per statement. Outside BEGIN they run as one implicit transaction
    /// (committed at the Sync); inside one, they are part of it. The first refusal skips the rest
    /// and is thrown (`PostgresError`): outside BEGIN, none of them took effect; inside, the
    /// transaction has failed and must be rolled back. `timeout` as for `query`.
    public func pipeline(_ statements: [PostgresStatement], timeout: Duration? = nil) async throws -> [PostgresQueryResult] {
        guard !statements.isEmpty else { return [] }
        var bytes: [UInt8] = []
        var parsed: [(PostgresPreparedStatements.Key, String)] = []
        do {
            for statement in statements {
                let bound = statement.parameters.map(\.bindParameter)
                let key = PostgresPreparedStatements.Key(sql: statement.sql, parameterTypes: bound.map(\.type))
                let name: String
                let lookup = parsed.first { $0.0 == key }.map { PostgresPreparedStatements.Lookup.prepared($0.1) }
                switch lookup ?? state.guarded.withLock({ $0.prepared.lookup(key) }) {
                case .prepared(let existing): name = existing
                case .parse(let new):
                    try PostgresFrontendMessage.parse(statement: new, query: statement.sql, parameterTypes: key.parameterTypes).encode(into: &bytes)
                    if !new.isEmpty { parsed.append((key, new)) }
                    name = new
                }
                try PostgresFrontendMessage.bind(
                    portal: "", statement: name, parameterFormats: bound.map(\.format), parameters: bound.map(\.bytes),
                    resultFormats: state.resultFormats(for: statement.sql)
                ).encode(into: &bytes)
                for message in [PostgresFrontendMessage.describe(.portal, name: ""), .execute(portal: "", maxRows: 0)] { try message.encode(into: &bytes) }
            }
            try PostgresFrontendMessage.sync.encode(into: &bytes)
        } catch {
            throw PostgresConnectionError.unencodable(error)
        }
        let results = try await state.submit(bytes, statements: statements.map(\.sql), timeout: timeout)
        // Only now: a statement of a refused pipeline may not have been parsed.
        state.guarded.withLock { guarded in for (key, name) in parsed { guarded.prepared.parsed(key, as: name) } }
        guard results.count == statements.count else {
            throw PostgresConnectionError.protocolViolation("\(results.count) results for \(statements.count) statements")
        }
        return results
    }

    /// Runs `sql` by the simple query protocol (one Query message; rows as text): for statements
    /// without parameters such as BEGIN, COMMIT, LISTEN or SET. Several statements separated by
    /// `;` run as one implicit transaction and give one result each.
    @discardableResult
    public func simpleQuery(_ sql: String, timeout: Duration? = nil) async throws -> [PostgresQueryResult] {
        let bytes: [UInt8]
        do { bytes = try PostgresFrontendMessage.query(sql).encoded() } catch { throw PostgresConnectionError.unencodable(error) }
        return try await state.submit(bytes, statements: [], timeout: timeout)
    }

    /// The status of the last ReadyForQuery: idle, in a transaction block, or in a failed one.
    public var transactionStatus: PostgresTransactionStatus { state.guarded.withLock { $0.transactionStatus } }

    /// Run-time parameters the server reported (server_version, TimeZone…), kept up to date.
    public var parameters: [String: String] { state.guarded.withLock { $0.parameters } }

    /// True once closed by either side; every later query fails with `.closed`.
    public var isClosed: Bool { state.guarded.withLock { $0.closedError != nil } }

    /// Sends Terminate and closes the socket; waiting queries fail with `.closed`. Idempotent.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.guarded.withLock { guarded -> Bool in
                if guarded.finished { return true }
                guarded.closing = true
                guarded.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { state.wake() }
        }
    }
}

/// What callers and the session's driver share, under one lock. `@unchecked Sendable`:
/// `guarded` is a Mutex, the rest is immutable.
final class PostgresConnectionState: @unchecked Sendable {
    typealias Reply = CheckedContinuation<Result<[PostgresQueryResult], any Error>, Never>

    struct Request {
        let id: UInt64
        let bytes: [UInt8]
        /// The SQL of each extended query, in order, whose column types are remembered for the
        /// next Bind of that SQL; empty for a simple query.
        let statements: [String]
        let deadline: UInt64?
        let reply: Reply
    }

    struct Guarded {
        var queue: [Request] = []
        var cancelled: Set<UInt64> = []
        var closing = false
        var closedError: PostgresConnectionError?
        /// The session has ended: nothing more will be answered.
        var finished = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var transactionStatus = PostgresTransactionStatus.idle
        var parameters: [String: String] = [:]
        /// Result formats by SQL text, from the column types of its last run (bounded).
        var resultFormats: [String: [PostgresFormat]] = [:]
        var prepared = PostgresPreparedStatements()
        var nextID: UInt64 = 0
        /// Direct sends (`submit`): the plain socket's descriptor while the session runs (nil
        /// under TLS, whose state only the driver may touch, and once the session ends); whether
        /// the session is idle (nothing running, queued, unsent or being cancelled), so a caller
        /// may write its request itself; and the request so sent, which the driver adopts when it
        /// next looks.
        var directFD: Int32?
        var sessionIdle = false
        var sentDirectly: Request?
        /// Requests written by their callers (`sentDirectly`), for tests and measurements.
        var directSends = 0
        /// Has the driver look at `queue`, `cancelled` and `closing` on its loop; nil before the
        /// session runs (it looks when it starts) and once it has ended.
        var waker: (@Sendable () -> Void)?
    }

    static let maximumRememberedStatements = 512

    let guarded = Mutex(Guarded())
    let notifications: AsyncStream<PostgresNotification>.Continuation

    init(notifications: AsyncStream<PostgresNotification>.Continuation) { self.notifications = notifications }

    func wake() { guarded.withLock { $0.waker }?() }

    func requestClose() {
        guarded.withLock { $0.closing = true }
        wake()
    }

    func resultFormats(for sql: String) -> [PostgresFormat] {
        guarded.withLock { $0.resultFormats[sql] } ?? [.text]
    }

    func remember(columns: [PostgresColumnDescription], of sql: String) {
        guarded.withLock { guarded in
            if guarded.resultFormats.count >= Self.maximumRememberedStatements { guarded.resultFormats.removeAll() }
            guarded.resultFormats[sql] = PostgresResultFormats.formats(for: columns.map(\.dataType))
        }
    }

    /// Queues `bytes` (one request ending in Sync or a Query) and waits for its replies.
    func submit(_ bytes: [UInt8], statements: [String], timeout: Duration?) async throws -> [PostgresQueryResult] {
        let deadline = timeout.map { PostgresSocket.deadline(after: $0) }
        let id = guarded.withLock { guarded in
            guarded.nextID += 1
            return guarded.nextID
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (reply: Reply) in
                let admission = guarded.withLock { guarded -> Admission in
                    if let closed = guarded.closedError { return .refused(closed) }
                    if guarded.closing { return .refused(.closed(reason: "closed by the client", serverError: nil)) }
                    if Task.isCancelled { return .refused(.queryCancelled(nil)) }
                    if deadline == nil, let sent = Self.sendDirectly(bytes, &guarded) {
                        // Written from this thread: the driver looks only when the reply comes
                        // (or at once, to write what the socket did not take).
                        guarded.sentDirectly = Request(id: id, bytes: Array(bytes[sent...]), statements: statements, deadline: nil, reply: reply)
                        guarded.sessionIdle = false
                        guarded.directSends += 1
                        return sent == bytes.count ? .sent : .queued
                    }
                    guarded.queue.append(Request(id: id, bytes: bytes, statements: statements, deadline: deadline, reply: reply))
                    return .queued
                }
                switch admission {
                case .sent: break
                case .queued: wake()
                case .refused(let error): reply.resume(returning: .failure(error))
                }
            }
        } onCancel: {
            cancel(id)
        }
        return try result.get()
    }

    private enum Admission {
        case refused(PostgresConnectionError)
        /// For the driver to write (all of it, or what `sendDirectly` left).
        case queued
        /// Written whole by the caller.
        case sent
    }

    /// Writes a request's bytes on the plain socket from the caller's thread when the session is
    /// idle (the driver writes only when it has work, and work changes hands under this lock);
    /// answers how many bytes went (at least one), or nil: queue it for the driver instead.
    /// Saves a hop to the driver's loop per query.
    private static func sendDirectly(_ bytes: [UInt8], _ guarded: inout Guarded) -> Int? {
        guard let fd = guarded.directFD, guarded.sessionIdle, guarded.queue.isEmpty, guarded.sentDirectly == nil, !bytes.isEmpty else { return nil }
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        return n > 0 ? n : nil
    }

    /// A waiting request is dropped at once; a running one is cancelled by the driver.
    private func cancel(_ id: UInt64) {
        let waiting = guarded.withLock { guarded -> Request? in
            if let index = guarded.queue.firstIndex(where: { $0.id == id }) { return guarded.queue.remove(at: index) }
            guarded.cancelled.insert(id)
            return nil
        }
        if let waiting { waiting.reply.resume(returning: .failure(PostgresConnectionError.queryCancelled(nil))) } else { wake() }
    }
}

/// One statement of `PostgresConnection.pipeline`: SQL with its parameters ($1, $2…).
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [PostgresValue]

    public init(_ sql: String, _ parameters: [PostgresValue] = []) { (self.sql, self.parameters) = (sql, parameters) }
}

/// The session's named prepared statements, by SQL and parameter types: a statement is parsed
/// (and planned, once the server settles on a generic plan) once per session instead of on every
/// run. Names are never reused (a Parse whose pipeline failed may or may not exist on the server),
/// and at most `maximum` are kept: beyond, statements run unnamed, parsed each time. Pure.
struct PostgresPreparedStatements {
    struct Key: Hashable {
        var sql: String
        var parameterTypes: [PostgresOID]
    }

    enum Lookup: Equatable {
        case prepared(String)
        /// Send Parse under this name first (empty: the unnamed statement).
        case parse(String)
    }

    static let maximum = 256
    private var names: [Key: String] = [:]
    private var issued = 0

    mutating func lookup(_ key: Key) -> Lookup {
        if let name = names[key] { return .prepared(name) }
        guard issued < Self.maximum else { return .parse("") }
        issued += 1
        return .parse("gateway_\(issued)")
    }

    /// The server answered the pipeline that parsed `key` as `name`: later runs use it.
    mutating func parsed(_ key: Key, as name: String) { names[key] = name }
}
