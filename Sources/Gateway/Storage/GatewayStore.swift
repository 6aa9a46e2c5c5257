import Postgres
import Store

/// Everything the gateway keeps, one backend behind every purpose. Components take only the
/// protocols they need (the engine an `OperationStore`, the key ring an `ApiKeyStore`…).
protocol GatewayStore: OperationStore, InboundRequestStore, ApiKeyStore, WebhookStore, RetentionStore, StoreHealth, CommitFeed {
    /// The version of the schema the store is migrated to.
    func schemaVersion() async throws -> Int
    /// Waits for writes in progress, then closes.
    func close() async
}

/// Makes the store from configuration: SQLite at DATABASE_PATH, or PostgreSQL at DATABASE_URL.
enum GatewayStorage {
    /// Opens (creating and migrating) the store the configuration names. `exclusive` (SQLite): this
    /// process holds the file's lock (a gateway, not an admin command), so it may first change how
    /// the file is laid out (incremental vacuum), which needs no other connection open.
    static func open(_ configuration: GatewayConfiguration, exclusive: Bool) async throws -> any GatewayStore {
        if let postgres = configuration.postgres {
            var pool = PostgresPoolOptions()
            pool.maximumConnections = configuration.databaseMaxConnections
            return try await PostgresGatewayStore.open(configuration: postgres, poolOptions: pool)
        }
        return try open(path: configuration.databasePath, exclusive: exclusive)
    }

    /// Opens (creating and migrating) the SQLite store at `path`.
    static func open(path: String, exclusive: Bool) throws -> any GatewayStore {
        try SQLiteGatewayStore.open(path: path, exclusive: exclusive)
    }

    /// A consistent copy of the database at `path` into the new file `destination` (mode 0600),
    /// while a gateway may be serving it; refuses an existing `destination`; never migrates.
    static func backup(databaseAt path: String, to destination: String) throws {
        try SQLiteBackup.copy(databaseAt: path, to: destination)
    }

    /// The schema version of the store (nil when there is none yet) and the one this build
    /// migrates to; read without migrating.
    static func schemaVersions(_ configuration: GatewayConfiguration) async throws -> (current: Int?, expected: Int) {
        if let postgres = configuration.postgres {
            let connection = try await PostgresConnection.connect(postgres)
            do {
                let current = try await PostgresMigrator.version(on: connection)
                await connection.close()
                return (current == 0 ? nil : current, PostgresSchema.latestVersion)
            } catch {
                await connection.close()
                throw error
            }
        }
        return try SQLiteBackup.schemaVersions(databaseAt: configuration.databasePath)
    }

    /// The storage engine's library version, for `--version`.
    static var engineVersion: String { SQLiteLibrary.version }
}
