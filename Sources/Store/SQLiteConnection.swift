import CSQLite

/// One SQLite connection, set up the way the gateway needs it: WAL journal, `synchronous=FULL`
/// (a committed transaction survives a power loss), foreign keys enforced, a busy timeout,
/// temporary tables in memory, extended result codes.
///
/// Every statement is prepared once per connection and reused: `prepare`, `query` and `run`
/// look the SQL text up in a bounded statement cache. Not `Sendable`: a connection belongs to
/// one thread at a time (`Database` gives each connection its own thread).
public final class SQLiteConnection {
    /// How the file is opened.
    public enum OpenMode: Sendable {
        /// Read and write; the file is created when missing (its directory must exist).
        case readWriteCreate
        /// Read and write an existing file.
        case readWrite
        /// Read only: no journal-mode change, every write fails with `readOnly`.
        case readOnly
    }

    /// Settings of one connection.
    public struct Configuration: Sendable {
        /// How long a statement waits for a lock another connection or process holds before
        /// failing with `busy`.
        public var busyTimeout: Duration
        /// How many prepared statements the connection keeps (least recently used evicted first).
        public var statementCacheCapacity: Int
        /// A read-write connection that refuses writes (`PRAGMA query_only`): what `Database`
        /// readers use, because a read-only open of a WAL file needs its `-shm` to exist already.
        public var queryOnly: Bool

        public init(busyTimeout: Duration = .seconds(5), statementCacheCapacity: Int = 256, queryOnly: Bool = false) {
            self.busyTimeout = busyTimeout
            self.statementCacheCapacity = statementCacheCapacity
            self.queryOnly = queryOnly
        }
    }

    /// What an error raised by this connection or its statements should say about where it happened.
    struct ErrorContext: Sendable {
        let path: String
        let busyTimeoutMilliseconds: Int
    }

    public let path: String
    let handle: OpaquePointer
    let context: ErrorContext
    private var cache: StatementCache<SQLiteStatement>
    /// How many times SQL was compiled (`sqlite3_prepare_v3`): a cache hit does not count.
    public private(set) var statementsPrepared = 0
    /// Actions the current `Database.write` body asked to run after its transaction commits.
    var afterCommitActions: [@Sendable () -> Void] = []

    /// Runs `action` once the transaction holding the current `Database.write` has committed
    /// (never when the write fails or rolls back): e.g. wake a worker that reads what was just
    /// written. Runs on the writer thread, so it must be quick. Outside `Database.write` it never runs.
    public func afterCommit(_ action: @escaping @Sendable () -> Void) { afterCommitActions.append(action) }

    /// Opens (or creates) the database at `path` and applies the connection pragmas.
    /// Blocking: it may wait up to the busy timeout when another process holds the file.
    public init(path: String, mode: OpenMode = .readWriteCreate, configuration: Configuration = .init()) throws {
        precondition(configuration.statementCacheCapacity > 0, "statementCacheCapacity must be positive")
        let flags: Int32 =
            switch mode {
            case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            case .readWrite: SQLITE_OPEN_READWRITE
            case .readOnly: SQLITE_OPEN_READONLY
            }
        // A new database file is private (0600), and so are the -wal and -shm SQLite derives from it.
        if mode == .readWriteCreate && !path.isEmpty && path != ":memory:" { FileSystem.createPrivateFile(path) }
        var opened: OpaquePointer?
        // NOMUTEX: a connection is confined to one thread, so SQLite's per-connection mutex is waste.
        let code = sqlite3_open_v2(path, &opened, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard code == SQLITE_OK, let opened else {
            let systemErrno = opened.map { sqlite3_system_errno($0) } ?? 0
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw StoreError.cannotOpen(path: path, reason: FileSystem.openFailureReason(path: path, errno: systemErrno, sqliteMessage: message), code: code)
        }
        handle = opened
        self.path = path
        let milliseconds = Int(
            configuration.busyTimeout.components.seconds * 1000
                + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        context = ErrorContext(path: path, busyTimeoutMilliseconds: milliseconds)
        cache = StatementCache(capacity: configuration.statementCacheCapacity)
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
        try applyPragmas(mode: mode, queryOnly: configuration.queryOnly)
    }

    deinit {
        // Statements still referenced elsewhere keep the connection alive as a zombie until
        // they are finalized: sqlite3_close_v2 never leaves a dangling statement.
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    private func applyPragmas(mode: OpenMode, queryOnly: Bool) throws {
        // Reading the schema first turns "not a database" and "corrupt" into an error at open.
        try run("SELECT count(*) FROM sqlite_schema")
        if mode != .readOnly {
            let journal = try queryOne("PRAGMA journal_mode = WAL")?.get(0, as: String.self)
            // An in-memory database answers "memory"; a file that cannot do WAL (no shared
            // memory, e.g. some network file systems) would silently lose concurrency: refuse it.
            if journal != "wal" && journal != "memory" {
                throw StoreError(.other, "the database could not switch to WAL mode (journal_mode is \(journal ?? "unknown"))", path: path)
            }
            try execute("PRAGMA synchronous = FULL")
            // Bound the WAL file after a checkpoint, so one burst does not keep 100s of MB on disk.
            try execute("PRAGMA journal_size_limit = 67108864")
        }
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA temp_store = MEMORY")
        if queryOnly { try execute("PRAGMA query_only = ON") }
    }

    // MARK: Statements

    /// Runs one or more SQL statements with no bindings and no results (DDL, pragmas, scripts).
    /// Not cached: use `run` for statements that run often.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw error(code, message: message, sql: sql)
        }
    }

    /// The cached statement for `sql`, reset and with its bindings cleared; prepared on first use.
    ///
    /// When the cached statement is in the middle of a result (a caller is still stepping it,
    /// and now runs the same SQL again inside its loop), a separate uncached statement is
    /// returned instead of resetting the caller's cursor. So step a prepared statement to the
    /// end or `reset()` it when done, or the next `prepare` compiles the SQL again (`Database`
    /// resets every unfinished statement after each body, `query` and `run` after each call).
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        if let cached = cache.lookup(sql) {
            if cached.isBusy { return try compile(sql, persistent: false) }
            sqlite3_reset(cached.handle)
            sqlite3_clear_bindings(cached.handle)
            return cached
        }
        let statement = try compile(sql, persistent: true)
        cache.insert(statement, for: sql)
        return statement
    }

    /// How many statements the cache holds.
    public var cachedStatementCount: Int { cache.count }

    private func compile(_ sql: String, persistent: Bool) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        var trailing = false
        let code = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let flags = UInt32(persistent ? SQLITE_PREPARE_PERSISTENT : 0)
            let code = sqlite3_prepare_v3(handle, text, -1, flags, &statement, &tail)
            if code == SQLITE_OK, var rest = tail {
                while rest.pointee != 0 {
                    let byte = UInt8(bitPattern: rest.pointee)
                    if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\t")
                        && byte != UInt8(ascii: "\r") && byte != UInt8(ascii: ";")
                    {
                        trailing = true
                        break
                    }
                    rest += 1
                }
            }
            return code
        }
        statementsPrepared += 1
        guard code == SQLITE_OK else { throw error(code, sql: sql) }
        guard let statement else { throw StoreError.misuse("the SQL holds no statement", sql: sql) }
        if trailing {
            sqlite3_finalize(statement)
            throw StoreError.misuse("prepare takes a single statement; run scripts with execute", sql: sql)
        }
        return SQLiteStatement(handle: statement, sql: sql, context: context)
    }

    /// Prepares `sql`, binds `bindings`, gives the statement to `body`, and resets it afterwards
    /// so that no read snapshot or lock outlives the call.
    @inline(__always)
    func withStatement<T>(
        _ sql: String, _ bind: (SQLiteStatement) throws -> Void, _ body: (SQLiteStatement) throws -> T
    ) throws -> T {
        let statement = try prepare(sql)
        defer {
            sqlite3_reset(statement.handle)
            sqlite3_clear_bindings(statement.handle)
        }
        try bind(statement)
        return try body(statement)
    }

    /// Every row of `sql`, copied out.
    public func query(_ sql: String, _ bindings: [any SQLiteValueConvertible] = []) throws -> [Row] {
        try query(sql, bindings) { $0.row() }
    }

    /// Every row of `sql` with named parameters (`[":id": id]`), copied out.
    public func query(_ sql: String, named bindings: [String: any SQLiteValueConvertible]) throws -> [Row] {
        try withStatement(sql, { try $0.bind(named: bindings) }) { statement in
            var rows: [Row] = []
            while try statement.step() { rows.append(statement.row()) }
            return rows
        }
    }

    /// Every row of `sql` decoded by `decode` straight from the statement, without building `Row`s:
    /// the fast path for repositories.
    public func query<T>(
        _ sql: String, _ bindings: [any SQLiteValueConvertible] = [], _ decode: (SQLiteStatement) throws -> T
    ) throws -> [T] {
        try withStatement(sql, { try $0.bind(bindings) }) { statement in
            var results: [T] = []
            while try statement.step() { results.append(try decode(statement)) }
            return results
        }
    }

    /// The first row of `sql`, or nil when there is none.
    public func queryOne(_ sql: String, _ bindings: [any SQLiteValueConvertible] = []) throws -> Row? {
        try withStatement(sql, { try $0.bind(bindings) }) { statement in
            try statement.step() ? statement.row() : nil
        }
    }

    /// The first row of `sql` with named parameters, or nil when there is none.
    public func queryOne(_ sql: String, named bindings: [String: any SQLiteValueConvertible]) throws -> Row? {
        try withStatement(sql, { try $0.bind(named: bindings) }) { statement in
            try statement.step() ? statement.row() : nil
        }
    }

    /// Runs a statement to completion; answers how many rows it inserted, updated or deleted.
    @discardableResult
    public func run(_ sql: String, _ bindings: [any SQLiteValueConvertible] = []) throws -> Int {
        try withStatement(sql, { try $0.bind(bindings) }) { try $0.runToCompletion() }
    }

    /// Runs a statement with named parameters to completion; answers the rows it changed.
    @discardableResult
    public func run(_ sql: String, named bindings: [String: any SQLiteValueConvertible]) throws -> Int {
        try withStatement(sql, { try $0.bind(named: bindings) }) { try $0.runToCompletion() }
    }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowId: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// True inside BEGIN … COMMIT (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Resets statements left in the middle of a result, so that a body that stopped stepping
    /// early does not hold a read snapshot (which would pin the WAL) past its call.
    func resetUnfinishedStatements() {
        var next = sqlite3_next_stmt(handle, nil)
        while let statement = next {
            if sqlite3_stmt_busy(statement) != 0 { sqlite3_reset(statement) }
            next = sqlite3_next_stmt(handle, statement)
        }
    }

    /// For tests of a failing COMMIT: while vetoed, SQLite turns every COMMIT into a rollback
    /// and fails it with SQLITE_CONSTRAINT_COMMITHOOK.
    func vetoCommits(_ veto: Bool) {
        if veto {
            sqlite3_commit_hook(handle, { _ in 1 }, nil)
        } else {
            sqlite3_commit_hook(handle, nil, nil)
        }
    }

    func error(_ code: Int32, message: String? = nil, sql: String?) -> StoreError {
        let extended = sqlite3_extended_errcode(handle)
        let best = extended & 0xFF == code & 0xFF ? extended : code
        return StoreError.sqlite(
            best, message: message ?? String(cString: sqlite3_errmsg(handle)), sql: sql, path: path,
            busyTimeoutMilliseconds: context.busyTimeoutMilliseconds)
    }
}
