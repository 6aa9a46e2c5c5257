import Store
import Synchronization

/// The gateway's store on one SQLite file (WAL, group commit): every protocol of `GatewayStore`
/// over the `*Records` SQL. Commit notices reach the observers of the same file in this
/// process; other processes on the file (the admin commands) are seen by polling.
final class SQLiteGatewayStore: GatewayStore {
    let database: Database
    private let commits: CommitBroadcast

    init(database: Database) {
        self.database = database
        commits = Self.commits(of: database.path)
    }

    /// One fan-out per file: stores opened on one file in one process (tests) hear each other.
    static func commits(of path: String) -> CommitBroadcast {
        broadcasts.withLock { broadcasts in
            if let existing = broadcasts[path] { return existing }
            let created = CommitBroadcast()
            broadcasts[path] = created
            return created
        }
    }
    private static let broadcasts = Mutex<[String: CommitBroadcast]>([:])

    static func open(path: String, exclusive: Bool) throws -> SQLiteGatewayStore {
        // Before the store's own connections open the file (the caller's lock keeps other processes out).
        if exclusive { try IncrementalVacuum.enable(path: path) }
        return SQLiteGatewayStore(database: try Database.open(path: path, migrations: Schema.migrations))
    }

    func schemaVersion() async throws -> Int {
        try await database.read { db in try Migrator.schemaVersion(of: db) }
    }

    func close() async { await database.close() }

    func observe(_ observer: @escaping @Sendable (StoreCommit) -> Void) -> CommitObservation {
        commits.observe(observer)
    }

    // MARK: StoreHealth

    func ping() async throws {
        _ = try await database.read { db in try db.queryOne("SELECT 1") }
    }

    func gauges() async throws -> StoreGauges {
        try await database.read { db in try GaugeRecords.read(in: db) }
    }

    // MARK: ApiKeyStore

    func insertKey(_ key: ApiKey, hash: String) async throws {
        try await database.write { db in try ApiKeyRecords.insert(key, hash: hash, in: db) }
    }

    func installBootstrapKey(_ key: ApiKey, hash: String, now: Int64) async throws -> BootstrapKeyChange {
        try await database.write { db in try ApiKeyRecords.installBootstrap(key, hash: hash, now: now, in: db) }
    }

    func revokeKey(id: String, now: Int64) async throws -> Bool {
        try await database.write { db in try ApiKeyRecords.revoke(id: id, now: now, in: db) }
    }

    func allKeys() async throws -> [ApiKey] {
        try await database.read { db in try ApiKeyRecords.all(in: db) }
    }

    func activeKeys(unlessVersion known: Int64) async throws -> (version: Int64, byHash: [String: ApiKey]?) {
        try await database.read { db in
            let current = try ApiKeyRecords.version(in: db)
            return (current, current == known ? nil : try ApiKeyRecords.activeByHash(in: db))
        }
    }

    // MARK: InboundRequestStore

    func claim(
        _ key: InboundKey, requestHash: String, now: Int64, retention: Int64, lease: Int64,
        heldElsewhere: @escaping @Sendable () -> Bool
    ) async throws -> InboundClaim {
        try await database.write { db in
            try InboundRecords.claim(
                apiKeyId: key.apiKeyId, key: key.key, requestHash: requestHash, now: now, retention: retention,
                lease: lease, heldElsewhere: heldElsewhere, in: db)
        }
    }

    func complete(_ key: InboundKey, answer: InboundAnswer) async throws {
        try await database.write { db in
            try InboundRecords.complete(
                apiKeyId: key.apiKeyId, key: key.key, status: answer.status, headers: answer.headers,
                body: answer.body, secretReference: answer.secretReference, in: db)
        }
    }

    func release(_ key: InboundKey) async throws {
        try await database.write { db in try InboundRecords.release(apiKeyId: key.apiKeyId, key: key.key, in: db) }
    }
}

extension SQLiteConnection {
    /// Publishes `commit` to the file's observers once the current transaction has committed.
    func publishAfterCommit(_ commit: StoreCommit) {
        afterCommit { [path] in SQLiteGatewayStore.commits(of: path).publish(commit) }
    }
}
