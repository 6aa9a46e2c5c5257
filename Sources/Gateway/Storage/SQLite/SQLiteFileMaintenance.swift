import Dispatch
import Store
import Synchronization

/// Copies the WAL into the database file and truncates it to zero bytes, so pages that once
/// held deleted data (raw privacy identifiers) leave the disk. Runs on its own short-lived
/// connection; gives up after 200 ms (answering false) while a reader still uses old frames:
/// the next sweep tries again.
enum WALCheckpoint {
    /// One checkpoint at a time, on a Dispatch thread: never on the store's writer thread (every
    /// write would wait for it) nor on the cooperative pool (it blocks on the file).
    private static let queue = DispatchQueue(label: "rokt-gateway.wal-checkpoint")

    /// Asks for a truncation after the current commit; requests made while one waits share it.
    static func truncateSoon(path: String) {
        guard requested.withLock({ $0.insert(path).inserted }) else { return }
        queue.async {
            _ = requested.withLock { $0.remove(path) }
            truncate(path: path)
        }
    }
    private static let requested = Mutex<Set<String>>([])

    @discardableResult
    static func truncate(path: String) -> Bool {
        guard let connection = try? SQLiteConnection(path: path, mode: .readWrite, configuration: .init(busyTimeout: .milliseconds(200))),
            let row = try? connection.queryOne("PRAGMA wal_checkpoint(TRUNCATE)")
        else { return false }
        return (try? row.get(0, as: Int.self)) == 0
    }
}

/// Freed pages go back to the file system only in `auto_vacuum=INCREMENTAL` files. The mode
/// takes effect on an existing (or a fresh WAL) file through one VACUUM, run at start when the
/// file is not in that mode yet. It must run before any other connection opens the file: an
/// open connection keeps the mode it read and would write the file as if it had not changed.
enum IncrementalVacuum {
    /// Answers whether a VACUUM ran.
    @discardableResult
    static func enable(path: String) throws -> Bool {
        let connection = try SQLiteConnection(path: path, mode: .readWriteCreate)
        guard try connection.queryOne("PRAGMA auto_vacuum")?.get(0, as: Int.self) != 2 else { return false }
        try connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        try connection.execute("VACUUM")
        return true
    }
}
