/// The gateway's handle on its SQLite file: one writer connection on a dedicated thread, a few
/// reader connections on theirs, and async `write` / `read` for callers on any task.
///
/// Guarantees:
/// - **Durable before acknowledged.** `write` returns only after the transaction holding its
///   changes has committed with `synchronous=FULL` (survives a power loss).
/// - **Group commit.** Writes that queue while the writer is busy share one transaction and one
///   fsync; each runs in its own savepoint, so one that throws is rolled back alone and gets its
///   own error while the others commit. If the COMMIT fails, every write of the batch fails.
/// - **Atomic writes.** A write body's changes are all committed or none is.
/// - **Snapshot reads, concurrent with writes.** A `read` body sees one consistent committed
///   state, including every write that returned before the read began.
/// - **Bounded.** A full write or read queue answers `overloaded` at once instead of growing.
/// - **Blocking work stays off the cooperative pool.** Bodies run on the Store's own threads;
///   callers only await.
///
/// Other processes (the `rokt-gateway keys` CLI) may open the same file meanwhile: WAL lets
/// them read freely, and their writes wait for ours (and ours for theirs) up to the busy timeout.
///
/// Bodies must be short and synchronous: SQL in, values out, no waiting on anything else (the
/// writer is one thread; a body that blocks stalls every write). A body must not run
/// BEGIN/COMMIT/ROLLBACK itself; `transaction` and `savepoint` inside a body nest correctly.
/// A write, once queued, runs even if its caller's task is cancelled.
public final class Database: Sendable {
    /// Activity counts since `open`, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Transactions committed by the writer (one per batch).
        public var commits: Int
        /// Writes committed; `committedWrites / commits` is the mean batch size.
        public var committedWrites: Int
        /// Writes that failed: their own error, a busy lock, a failed commit.
        public var failedWrites: Int
        /// Reads run.
        public var reads: Int
        /// Writes waiting for the writer right now.
        public var queuedWrites: Int
        /// Reads waiting for a reader right now.
        public var queuedReads: Int
    }

    public let path: String
    public let configuration: DatabaseConfiguration
    private let writeQueue: BlockingQueue<ConnectionJob>
    private let readQueue: BlockingQueue<ConnectionJob>
    private let counters = StoreCounters()
    private let exits: ExitLatch

    /// Opens (creating when missing) the database at `path`, brings its schema up to date with
    /// `migrations`, and starts the writer and reader threads.
    ///
    /// Blocking (it may wait up to the busy timeout for another process's lock): call it at
    /// start-up, not from an event loop. Throws `cannotOpen` when the file or its directory
    /// cannot be opened or created (the message says why: missing directory, permission
    /// denied…), `busy` when another process holds the lock beyond the busy timeout while a
    /// migration must run, `schemaTooNew` when the file was migrated by a newer binary,
    /// `notADatabase`/`corrupt` for a file that is not a sound SQLite database.
    public static func open(
        path: String, migrations: [Migration] = [], configuration: DatabaseConfiguration = .init()
    ) throws -> Database {
        try configuration.validate()
        if path.isEmpty || path == ":memory:" {
            // Each connection would get its own private database: the readers would never see a write.
            throw StoreError.misuse("a Database needs a file path that all its connections share, not \"\(path)\"")
        }
        let migrator = try Migrator(migrations)
        if configuration.createsParentDirectory { try FileSystem.createParentDirectory(of: path) }
        let writer = try SQLiteConnection(
            path: path, mode: .readWriteCreate, configuration: configuration.connectionConfiguration(queryOnly: false))
        try migrator.migrate(writer)
        return try Database(path: path, configuration: configuration, writer: writer)
    }

    private init(path: String, configuration: DatabaseConfiguration, writer: sending SQLiteConnection) throws {
        self.path = path
        self.configuration = configuration
        writeQueue = BlockingQueue(capacity: configuration.maxQueuedWrites)
        readQueue = BlockingQueue(capacity: configuration.maxQueuedReads)
        exits = ExitLatch(count: 1 + configuration.readerCount)
        let exits = exits
        let groupCommit = GroupCommitWriter(
            connection: writer, queue: writeQueue, maxBatchSize: configuration.maxBatchSize,
            maxBatchDuration: configuration.maxBatchDuration, counters: counters)
        do {
            // Readers open after the writer set WAL mode and migrated, so they see the final schema.
            for number in 1...configuration.readerCount {
                let connection = try SQLiteConnection(
                    path: path, mode: .readWrite, configuration: configuration.connectionConfiguration(queryOnly: true))
                let reader = SnapshotReader(connection: connection, queue: readQueue, counters: counters)
                try StoreThread.start(name: "store-reader-\(number)", { reader.run() }, onExit: { exits.arrive() })
            }
            try StoreThread.start(name: "store-writer", { groupCommit.run() }, onExit: { exits.arrive() })
        } catch {
            // The readers already started exit on the closed queue; nothing else holds them.
            writeQueue.close()
            readQueue.close()
            throw error
        }
    }

    /// Closing on release lets the threads finish the queued work and exit; `close()` is the
    /// way to wait for that.
    deinit {
        writeQueue.close()
        readQueue.close()
    }

    /// Runs `body` on the writer connection inside the current batch's transaction, in its own
    /// savepoint, and returns its result once that transaction has committed.
    ///
    /// Throws the body's own error (its changes rolled back, the rest of the batch unaffected);
    /// the commit's error when the batch could not commit; `busy` when another process held the
    /// write lock beyond the busy timeout; `overloaded` when `maxQueuedWrites` writes are
    /// already waiting; `closed` after `close()`.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(ConnectionJob.resuming(continuation, with: body), to: writeQueue, named: "write")
        }
    }

    /// Runs `body` on a reader connection in a read transaction (one snapshot of committed
    /// data) and returns its result. The connection refuses writes (`readOnly`).
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(ConnectionJob.resuming(continuation, with: body), to: readQueue, named: "read")
        }
    }

    private func submit(_ job: ConnectionJob, to queue: BlockingQueue<ConnectionJob>, named name: String) {
        switch queue.offer(job) {
        case .accepted: break
        case .full: job.fail(StoreError.overloaded(limit: queue.capacity, queue: name))
        case .closed: job.fail(StoreError.closed)
        }
    }

    /// Refuses new work, lets the writes and reads already queued finish (and commit), then
    /// closes every connection. Idempotent; returns once the Store threads have exited.
    public func close() async {
        writeQueue.close()
        readQueue.close()
        await exits.wait()
    }

    public var statistics: Statistics {
        Statistics(
            commits: counters.commits.load(ordering: .relaxed),
            committedWrites: counters.committedWrites.load(ordering: .relaxed),
            failedWrites: counters.failedWrites.load(ordering: .relaxed),
            reads: counters.reads.load(ordering: .relaxed),
            queuedWrites: writeQueue.count,
            queuedReads: readQueue.count)
    }
}
