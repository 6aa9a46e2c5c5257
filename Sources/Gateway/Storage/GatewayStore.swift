import Store

/// Everything the gateway keeps, one backend behind every purpose. Components take only the
/// protocols they need (the engine an `OperationStore`, the key ring an `ApiKeyStore`…).
protocol GatewayStore: OperationStore, InboundRequestStore, ApiKeyStore, WebhookStore, RetentionStore, StoreHealth, CommitFeed {
    /// The version of the schema the store is migrated to.
    func schemaVersion() async throws -> Int
    /// Waits for writes in progress, then closes.
    func close() async
}

/// Makes the store from configuration: today SQLite at DATABASE_PATH.
enum GatewayStorage {
    /// Opens (creating and migrating) the store at `path`. `exclusive`: this process holds the
    /// database's lock (a gateway, not an admin command), so it may first change how the file
    /// is laid out (incremental vacuum), which needs no other connection open.
    static func open(path: String, exclusive: Bool) throws -> any GatewayStore {
        try SQLiteGatewayStore.open(path: path, exclusive: exclusive)
    }

    /// A consistent copy of the database at `path` into the new file `destination` (mode 0600),
    /// while a gateway may be serving it; refuses an existing `destination`; never migrates.
    static func backup(databaseAt path: String, to destination: String) throws {
        try SQLiteBackup.copy(databaseAt: path, to: destination)
    }

    /// The schema version of the database at `path` (nil when there is no file yet) and the one
    /// this build migrates to; read without migrating.
    static func schemaVersions(databaseAt path: String) throws -> (current: Int?, expected: Int) {
        try SQLiteBackup.schemaVersions(databaseAt: path)
    }

    /// The storage engine's library version, for `--version`.
    static var engineVersion: String { SQLiteLibrary.version }
}
