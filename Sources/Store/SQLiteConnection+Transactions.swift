import CSQLite

/// How a transaction takes its locks.
public enum TransactionKind: Sendable {
    /// Locks on first read or write. A deferred transaction that reads and then writes can fail
    /// with `busy` at once (its snapshot went stale), so writers should not use it.
    case deferred
    /// Takes the write lock at BEGIN, waiting up to the busy timeout: what writers use.
    case immediate
    /// Like immediate; in WAL mode also keeps other connections from reading only during commit.
    case exclusive

    var beginSQL: String {
        switch self {
        case .deferred: "BEGIN DEFERRED"
        case .immediate: "BEGIN IMMEDIATE"
        case .exclusive: "BEGIN EXCLUSIVE"
        }
    }
}

extension SQLiteConnection {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws
    /// (the error is rethrown). When the commit itself fails the transaction is rolled back and
    /// the commit's error thrown.
    ///
    /// Called while a transaction is already open (inside `Database.write`, or nested), the body
    /// runs in a savepoint instead: it is still all-or-nothing, and durable when the outer
    /// transaction commits. `kind` then has no effect.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: (SQLiteConnection) throws -> T) throws -> T {
        if isInTransaction { return try savepoint("transaction", body) }
        try run(kind.beginSQL)
        let result: T
        do {
            result = try body(self)
        } catch {
            rollbackIfOpen()
            throw error
        }
        do {
            try run("COMMIT")
        } catch {
            rollbackIfOpen()
            throw error
        }
        return result
    }

    /// Runs `body` in a savepoint: released when it returns, rolled back to (and released) when it
    /// throws, leaving the enclosing transaction's other changes in place. Outside a transaction
    /// a savepoint behaves as a deferred BEGIN … COMMIT.
    @discardableResult
    public func savepoint<T>(_ name: String = "savepoint", _ body: (SQLiteConnection) throws -> T) throws -> T {
        let quoted = "\"" + name.replacing("\"", with: "\"\"") + "\""
        try run("SAVEPOINT \(quoted)")
        let result: T
        do {
            result = try body(self)
        } catch {
            try? rollback(toSavepoint: quoted)
            throw error
        }
        do {
            try run("RELEASE \(quoted)")
        } catch {
            try? rollback(toSavepoint: quoted)
            throw error
        }
        return result
    }

    /// Undoes everything since `SAVEPOINT quoted` and closes it. If SQLite already rolled the
    /// whole transaction back (some I/O and full-disk errors do), there is nothing to undo.
    func rollback(toSavepoint quoted: String) throws {
        guard isInTransaction else { return }
        try run("ROLLBACK TO \(quoted)")
        try run("RELEASE \(quoted)")
    }

    /// Rolls back the open transaction, if SQLite has not already done so.
    func rollbackIfOpen() {
        guard isInTransaction else { return }
        // Unfinished SELECTs would make ROLLBACK fail with SQLITE_BUSY on older SQLite; reset them first.
        resetUnfinishedStatements()
        _ = try? run("ROLLBACK")
    }
}
