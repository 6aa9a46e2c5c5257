import Postgres

/// The database was migrated by a newer release: this build must not run on it.
struct PostgresSchemaTooNew: Error, Equatable, CustomStringConvertible {
    let found: Int
    let known: Int

    var description: String {
        "the PostgreSQL schema is at version \(found) but this binary knows versions up to \(known): it was migrated by a newer release; run that release or restore a backup"
    }
}

/// Applies `PostgresSchema.migrations` in order, each in its own transaction that first takes a
/// transaction-scoped advisory lock: replicas starting together on an empty database queue on
/// the lock, and each re-reads the version under it, so every migration runs exactly once.
enum PostgresMigrator {
    /// The advisory lock key every migration transaction takes (an arbitrary constant: "gwschema").
    static let lockKey: Int64 = 0x6777_7363_6865_6D61

    /// Migrates to `PostgresSchema.latestVersion`; throws `PostgresSchemaTooNew` for a database
    /// a newer build migrated. Answers the versions applied by this call.
    @discardableResult
    static func migrate(_ pool: PostgresPool, migrations: [PostgresSchema.Migration] = PostgresSchema.migrations) async throws -> [Int] {
        let known = migrations.last?.version ?? 0
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await pool.withTransaction { connection -> Bool in
                _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [.int64(lockKey)])
                try await connection.simpleQuery(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """)
                let current = try await version(on: connection)
                if current > known { throw PostgresSchemaTooNew(found: current, known: known) }
                guard current < migration.version else { return false }
                try await connection.simpleQuery(migration.sql)
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [.int64(Int64(migration.version)), .text(migration.name)])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    /// The version the database is migrated to (0 when no migration ran yet).
    static func version(on connection: PostgresConnection) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists.rows.first?[0].bool == true else { return 0 }
        let row = try await connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").rows.first
        return Int(row?[0].int64 ?? 0)
    }
}
