/// One step of the schema: SQL applied once, in order, in its own transaction.
public struct Migration: Sendable {
    /// Versions are 1, 2, 3… with no gap: the schema version of a file is the last one applied.
    public let version: Int
    /// For logs and messages (`"operations and jobs"`).
    public let name: String
    /// One or more statements. `PRAGMA foreign_keys` cannot change inside a transaction: a
    /// migration that rebuilds a table must keep its references valid rather than switch them off.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Brings a database file to the schema this binary knows.
///
/// The version lives in `PRAGMA user_version` (the header of the file): it is written in the
/// same transaction as the migration's SQL, so a migration is applied entirely with its version
/// or not at all, and no bookkeeping table can disagree with the schema.
///
/// Guarantees: migrations run in ascending order, each exactly once per file, even when two
/// processes migrate the same file at once (each re-reads the version under the write lock);
/// `migrate` on an up-to-date file takes no write lock; a file whose version is newer than
/// the newest migration is refused with `schemaTooNew` and left untouched.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Validates the list: versions must be 1, 2, 3… in order (a gap or a duplicate is a
    /// mistake in the code, reported as `misuse`).
    public init(_ migrations: [Migration]) throws {
        for (offset, migration) in migrations.enumerated() where migration.version != offset + 1 {
            throw StoreError.misuse(
                "migration \"\(migration.name)\" has version \(migration.version) but is number \(offset + 1) in the list: versions must be 1, 2, 3… in order")
        }
        self.migrations = migrations
    }

    /// The newest schema version this binary knows.
    public var knownVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version recorded in the file.
    public static func schemaVersion(of connection: SQLiteConnection) throws -> Int {
        try connection.queryOne("PRAGMA user_version")?.get(0, as: Int.self) ?? 0
    }

    /// Applies the migrations the file lacks; answers the versions applied (empty when none).
    /// Throws `schemaTooNew` for a file migrated by a newer binary, `busy` when another process
    /// holds the write lock beyond the busy timeout, or the failing migration's error (that
    /// migration is rolled back; the ones before it stay applied).
    @discardableResult
    public func migrate(_ connection: SQLiteConnection) throws -> [Int] {
        let found = try Self.schemaVersion(of: connection)
        if found > knownVersion { throw StoreError.schemaTooNew(found: found, known: knownVersion, path: connection.path) }
        if found == knownVersion { return [] }
        var applied: [Int] = []
        for migration in migrations where migration.version > found {
            let didApply = try connection.transaction(.immediate) { connection -> Bool in
                // Another process may have migrated while we waited for the lock.
                let current = try Self.schemaVersion(of: connection)
                if current > knownVersion {
                    throw StoreError.schemaTooNew(found: current, known: knownVersion, path: connection.path)
                }
                guard current < migration.version else { return false }
                do {
                    try connection.execute(migration.sql)
                } catch var error as StoreError {
                    error = StoreError(
                        error.kind, "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                        resultCode: error.resultCode, extendedResultCode: error.extendedResultCode, sql: error.sql,
                        path: error.path, constraint: error.constraint)
                    throw error
                }
                // PRAGMA takes no parameters; the version is an Int, so interpolation is safe.
                try connection.execute("PRAGMA user_version = \(migration.version)")
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }
}
