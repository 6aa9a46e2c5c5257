import JSON
import Postgres

/// SQL over `api_keys` on PostgreSQL. Creating or revoking bumps `meta.keys_version` in the same
/// transaction, which every replica's key ring reads to reload (and NOTIFY makes it look at once).
enum PostgresApiKeyRecords {
    /// `bootstrap`: 1 for the bootstrap key, nil for any other.
    static func insert(_ key: ApiKey, hash: String, bootstrap: Int64? = nil, in db: PostgresConnection, notices: PostgresCommitNotices) async throws {
        _ = try await db.query(
            """
            INSERT INTO api_keys (id, name, key_hash, scopes, merchants, created_at, revoked_at, bootstrap, kind, origins)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            [
                .text(key.id), .text(key.name), .text(hash), .text(key.scopes.map(\.rawValue).sorted().joined(separator: ",")),
                .nullable(key.merchants.map { OperationRecords.json($0.sorted()) }), .int64(key.createdAt), .nullable(key.revokedAt),
                .nullable(bootstrap), .text(key.kind.rawValue), .nullable(key.origins.map { OperationRecords.json($0.sorted()) }),
            ])
        try await changed(in: db, notices: notices)
    }

    /// `ApiKeyStore.installBootstrapKey`, in the caller's transaction. Replicas starting together
    /// with one GATEWAY_BOOTSTRAP_API_KEY queue on the key set's version row, so one installs it
    /// and the others find it unchanged.
    static func installBootstrap(_ key: ApiKey, hash: String, now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws
        -> BootstrapKeyChange
    {
        _ = try await db.query("SELECT value FROM meta WHERE name = 'keys_version' FOR UPDATE")
        let current = try await db.query("SELECT id, key_hash FROM api_keys WHERE bootstrap = 1").rows.first
        let currentId = try current?.string("id")
        if let current, let currentId, try current.string("key_hash") == hash { return .unchanged(keyId: currentId) }
        let holder = try await db.query("SELECT id, bootstrap FROM api_keys WHERE key_hash = $1", [.text(hash)]).rows.first
        if let holder, try holder.optionalInt64("bootstrap") == nil { return .heldByOrdinaryKey(keyId: try holder.string("id")) }
        // Every earlier bootstrap key stops working, not only the previous one.
        _ = try await db.query("UPDATE api_keys SET bootstrap = 0, revoked_at = coalesce(revoked_at, $1) WHERE bootstrap IS NOT NULL", [.int64(now)])
        guard let holder else {
            try await insert(key, hash: hash, bootstrap: 1, in: db, notices: notices)
            return .installed(keyId: key.id, replaced: currentId)
        }
        let id = try holder.string("id")
        _ = try await db.query("UPDATE api_keys SET bootstrap = 1, revoked_at = NULL WHERE id = $1", [.text(id)])
        try await changed(in: db, notices: notices)
        return .installed(keyId: id, replaced: currentId)
    }

    /// Revokes a key; false when no active key has that id.
    static func revoke(id: String, now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws -> Bool {
        let revoked = try await db.query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [.text(id), .int64(now)]).affected > 0
        if revoked { try await changed(in: db, notices: notices) }
        return revoked
    }

    static func all(in db: PostgresConnection) async throws -> [ApiKey] {
        try await db.query("SELECT id, name, scopes, merchants, created_at, revoked_at, kind, origins FROM api_keys ORDER BY created_at, id").rows.map(decode)
    }

    /// The key set's version and, unless it is `known`, the active keys by hash, in the caller's
    /// transaction, which this makes one snapshot (REPEATABLE READ): the keys are those of the version.
    static func active(unlessVersion known: Int64, in db: PostgresConnection) async throws -> (version: Int64, byHash: [String: ApiKey]?) {
        try await db.simpleQuery("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        let version = try await db.query("SELECT value FROM meta WHERE name = 'keys_version'").rows.first?.int64("value") ?? 0
        guard version != known else { return (version, nil) }
        var byHash: [String: ApiKey] = [:]
        for row in try await db.query("SELECT id, name, scopes, merchants, created_at, revoked_at, kind, origins, key_hash FROM api_keys WHERE revoked_at IS NULL").rows {
            byHash[try row.string("key_hash")] = try decode(row)
        }
        return (version, byHash)
    }

    private static func changed(in db: PostgresConnection, notices: PostgresCommitNotices) async throws {
        _ = try await db.query("UPDATE meta SET value = value + 1 WHERE name = 'keys_version'")
        notices.append(.apiKeysChanged)
    }

    private static func decode(_ row: PostgresRow) throws -> ApiKey {
        ApiKey(
            id: try row.string("id"), name: try row.string("name"),
            scopes: Set(try row.string("scopes").split(separator: ",").compactMap { Scope(rawValue: String($0)) }),
            merchants: try row.optionalString("merchants").map { Set(try JSON.decode([String].self, from: Array($0.utf8))) },
            createdAt: try row.int64("created_at"), revokedAt: try row.optionalInt64("revoked_at"),
            // A kind a newer version wrote gets the least a key can do here.
            kind: ApiKeyKind(rawValue: try row.string("kind")) ?? .publishable,
            origins: try row.optionalString("origins").map { Set(try JSON.decode([String].self, from: Array($0.utf8))) })
    }
}
