import CSQLite

/// The one writer of a `Database`, on its own thread: takes queued writes and commits them in
/// groups, one transaction (and so one fsync) for every write that queued up while the previous
/// group was being committed.
///
/// Per batch: `BEGIN IMMEDIATE`; each write runs in `SAVEPOINT write` — released when its body
/// returns, rolled back when it throws (that caller gets its error at once, the batch goes on);
/// then `COMMIT`, and only then are the successful callers answered. A failed COMMIT fails every
/// successful write of the batch with the commit's error.
///
/// The batch takes writes while they keep coming, up to `maxBatchSize` writes or
/// `maxBatchDuration` since BEGIN, so the first caller's latency stays bounded under load.
final class GroupCommitWriter {
    private let connection: SQLiteConnection
    private let queue: BlockingQueue<ConnectionJob>
    private let maxBatchSize: Int
    private let maxBatchDuration: Duration
    private let counters: StoreCounters

    init(
        connection: SQLiteConnection, queue: BlockingQueue<ConnectionJob>, maxBatchSize: Int, maxBatchDuration: Duration,
        counters: StoreCounters
    ) {
        self.connection = connection
        self.queue = queue
        self.maxBatchSize = maxBatchSize
        self.maxBatchDuration = maxBatchDuration
        self.counters = counters
    }

    /// Runs until the queue is closed and drained.
    func run() {
        while let first = queue.take() { commitBatch(startingWith: first) }
    }

    private static let savepoint = "\"write\""

    private func commitBatch(startingWith first: ConnectionJob) {
        do {
            try connection.run("BEGIN IMMEDIATE")
        } catch {
            // Every write queued now would wait for the same lock another process holds: fail
            // them together instead of making each one wait another busy timeout.
            failQueued(first, error)
            return
        }
        let started = ContinuousClock.now
        var committing: [JobOutcome] = []
        var afterCommit: [@Sendable () -> Void] = []
        var taken = 0
        var next: ConnectionJob? = first
        while let job = next {
            taken += 1
            switch runInSavepoint(job) {
            case .succeeded(let outcome, let actions):
                committing.append(outcome)
                afterCommit += actions
            case .failed(let outcome, let error):
                counters.failedWrites.add(1, ordering: .relaxed)
                outcome.finish(error)
            case .transactionLost(let outcome, let cause, let ownError):
                // The batch's transaction is gone, and with it (unless a body committed it
                // itself) the writes before this one.
                connection.rollbackIfOpen()
                counters.failedWrites.add(committing.count + 1, ordering: .relaxed)
                let aborted = StoreError(.transactionAborted, "the batch transaction this write ran in ended early: \(cause)", path: connection.path)
                outcome.finish(ownError ?? aborted)  // a body that threw gets its own error
                for write in committing { write.finish(aborted) }
                return
            }
            if taken >= maxBatchSize || ContinuousClock.now - started >= maxBatchDuration { break }
            next = queue.poll()
        }
        if committing.isEmpty {
            // Every write failed and was rolled back: nothing to make durable.
            connection.rollbackIfOpen()
            return
        }
        do {
            try connection.run("COMMIT")
        } catch {
            connection.rollbackIfOpen()
            counters.failedWrites.add(committing.count, ordering: .relaxed)
            for write in committing { write.finish(error) }
            return
        }
        counters.commits.add(1, ordering: .relaxed)
        counters.committedWrites.add(committing.count, ordering: .relaxed)
        for write in committing { write.finish(nil) }
        for action in afterCommit { action() }
    }

    private enum WriteResult {
        case succeeded(JobOutcome, afterCommit: [@Sendable () -> Void])
        /// Rolled back to its savepoint; `finish(error)` answers the caller.
        case failed(JobOutcome, (any Error)?)
        /// The batch transaction ended during this write; `ownError` replaces a body's success.
        case transactionLost(JobOutcome, cause: String, ownError: StoreError?)
    }

    private func runInSavepoint(_ job: ConnectionJob) -> WriteResult {
        do {
            try connection.run("SAVEPOINT \(Self.savepoint)")
        } catch {
            return .transactionLost(JobOutcome(error: error, finish: { _ in job.fail(error) }), cause: "\(error)", ownError: nil)
        }
        connection.afterCommitActions = []
        let outcome = job.run(connection)
        connection.resetUnfinishedStatements()
        guard connection.isInTransaction else {
            if let error = outcome.error {
                // I/O errors, a full disk, an interrupt: SQLite may roll the whole transaction back.
                return .transactionLost(outcome, cause: "SQLite rolled it back after another write failed with: \(error)", ownError: nil)
            }
            let misuse = StoreError.misuse(
                "a write body ended the batch transaction itself (COMMIT or ROLLBACK): use savepoint or transaction inside writes")
            return .transactionLost(
                outcome, cause: "another write ran COMMIT or ROLLBACK itself, so this write may or may not be committed",
                ownError: misuse)
        }
        var failure: (any Error)? = outcome.error
        var ownError: StoreError?
        if failure == nil, hasUnresolvedForeignKeys() {
            // A DEFERRABLE INITIALLY DEFERRED reference left dangling would fail the COMMIT of
            // the whole batch: refuse this write alone instead.
            ownError = StoreError(
                .constraintViolation, "FOREIGN KEY constraint failed (deferred)", resultCode: SQLITE_CONSTRAINT,
                extendedResultCode: ExtendedResultCode.constraintForeignKey, path: connection.path, constraint: .foreignKey)
            failure = ownError
        }
        do {
            if failure != nil {
                try connection.rollback(toSavepoint: Self.savepoint)
                return .failed(outcome, ownError)
            }
            try connection.run("RELEASE \(Self.savepoint)")
            return .succeeded(outcome, afterCommit: connection.afterCommitActions)
        } catch {
            return .transactionLost(outcome, cause: "closing a savepoint failed: \(error)", ownError: nil)
        }
    }

    private func hasUnresolvedForeignKeys() -> Bool {
        var current: Int32 = 0
        var highwater: Int32 = 0
        sqlite3_db_status(connection.handle, SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0)
        return current > 0
    }

    private func failQueued(_ first: ConnectionJob, _ error: any Error) {
        first.fail(error)
        var failed = 1
        while failed < maxBatchSize, let job = queue.poll() {
            job.fail(error)
            failed += 1
        }
        counters.failedWrites.add(failed, ordering: .relaxed)
    }
}
