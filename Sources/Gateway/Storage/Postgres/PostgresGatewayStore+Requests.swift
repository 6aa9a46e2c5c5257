/// `ApiKeyStore` and `InboundRequestStore` on PostgreSQL.
extension PostgresGatewayStore {
    func insertKey(_ key: ApiKey, hash: String) async throws {
        try await transaction { db, notices in try await PostgresApiKeyRecords.insert(key, hash: hash, in: db, notices: notices) }
    }

    func installBootstrapKey(_ key: ApiKey, hash: String, now: Int64) async throws -> BootstrapKeyChange {
        try await transaction { db, notices in try await PostgresApiKeyRecords.installBootstrap(key, hash: hash, now: now, in: db, notices: notices) }
    }

    func revokeKey(id: String, now: Int64) async throws -> Bool {
        try await transaction { db, notices in try await PostgresApiKeyRecords.revoke(id: id, now: now, in: db, notices: notices) }
    }

    func allKeys() async throws -> [ApiKey] {
        try await read { db in try await PostgresApiKeyRecords.all(in: db) }
    }

    func activeKeys(unlessVersion known: Int64) async throws -> (version: Int64, byHash: [String: ApiKey]?) {
        try await pool.withTransaction { db in try await PostgresApiKeyRecords.active(unlessVersion: known, in: db) }
    }

    func claim(
        _ key: InboundKey, requestHash: String, now: Int64, retention: Int64, lease: Int64,
        heldElsewhere: @escaping @Sendable () -> Bool
    ) async throws -> InboundClaim {
        try await transaction { db, _ in
            try await PostgresInboundRecords.claim(key, requestHash: requestHash, now: now, retention: retention, lease: lease, heldElsewhere: heldElsewhere, in: db)
        }
    }

    func complete(_ key: InboundKey, answer: InboundAnswer) async throws {
        try await transaction { db, _ in try await PostgresInboundRecords.complete(key, answer: answer, in: db) }
    }

    func release(_ key: InboundKey) async throws {
        try await transaction { db, _ in try await PostgresInboundRecords.release(key, in: db) }
    }
}
