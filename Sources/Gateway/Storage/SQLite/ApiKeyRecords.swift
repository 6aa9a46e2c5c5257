import Store

/// SQL over `api_keys`. Creating or revoking bumps `meta.keys_version` in the same transaction,
/// which running gateways poll to reload their key ring within a second.
enum ApiKeyRecords {
    /// `bootstrap`: 1 for the bootstrap key, nil for any other (see the schema's migration 6).
    static func insert(_ key: ApiKey, hash: String, bootstrap: Int64? = nil, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO api_keys (id, name, key_hash, scopes, merchants, created_at, revoked_at, bootstrap, kind, origins)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                key.id, key.name, hash, key.scopes.map(\.rawValue).sorted().joined(separator: ","),
                key.merchants.map { OperationRecords.json($0.sorted()) }, key.createdAt, key.revokedAt, bootstrap,
                key.kind.rawValue, key.origins.map { OperationRecords.json($0.sorted()) },
            ])
        try bumpVersion(in: db)
        db.publishAfterCommit(.apiKeysChanged)
    }

    /// `ApiKeyStore.installBootstrapKey`, in the caller's transaction.
    static func installBootstrap(_ key: ApiKey, hash: String, now: Int64, in db: SQLiteConnection) throws -> BootstrapKeyChange {
        let current = try db.queryOne("SELECT id, key_hash FROM api_keys WHERE bootstrap = 1")
        let currentId = try current?.get("id", as: String.self)
        if let current, let currentId, try current.get("key_hash", as: String.self) == hash { return .unchanged(keyId: currentId) }
        let holder = try db.queryOne("SELECT id, bootstrap FROM api_keys WHERE key_hash = ?", [hash])
        if let holder, try holder.get("bootstrap", as: Int64?.self) == nil { return .heldByOrdinaryKey(keyId: try holder.get("id")) }
        // Every earlier bootstrap key stops working, not only the previous one: a database from an
        // older version may hold several still active.
        try db.run("UPDATE api_keys SET bootstrap = 0, revoked_at = coalesce(revoked_at, ?) WHERE bootstrap IS NOT NULL", [now])
        guard let holder else {
            try insert(key, hash: hash, bootstrap: 1, in: db)
            return .installed(keyId: key.id, replaced: currentId)
        }
        let id = try holder.get("id", as: String.self)
        try db.run("UPDATE api_keys SET bootstrap = 1, revoked_at = NULL WHERE id = ?", [id])
        try bumpVersion(in: db)
        db.publishAfterCommit(.apiKeysChanged)
        return .installed(keyId: id, replaced: currentId)
    }

    /// Revokes a key; false when no active key has that id.
    static func revoke(id: String, now: Int64, in db: SQLiteConnection) throws -> Bool {
        let changed = try db.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, id]) > 0
        if changed {
            try bumpVersion(in: db)
            db.publishAfterCommit(.apiKeysChanged)
        }
        return changed
    }

    static func all(in db: SQLiteConnection) throws -> [ApiKey] {
        try db.query("SELECT id, name, scopes, merchants, created_at, revoked_at, kind, origins FROM api_keys ORDER BY created_at, id").map(decode)
    }

    /// Active keys by hash, for the key ring.
    static func activeByHash(in db: SQLiteConnection) throws -> [String: ApiKey] {
        var result: [String: ApiKey] = [:]
        for row in try db.query("SELECT id, name, scopes, merchants, created_at, revoked_at, kind, origins, key_hash FROM api_keys WHERE revoked_at IS NULL") {
            result[try row.get("key_hash")] = try decode(row)
        }
        return result
    }

    static func version(in db: SQLiteConnection) throws -> Int64 {
        try db.query("SELECT value FROM meta WHERE name = 'keys_version'").first?.get(0) ?? 0
    }

    private static func bumpVersion(in db: SQLiteConnection) throws {
        try db.run("UPDATE meta SET value = value + 1 WHERE name = 'keys_version'")
    }

    private static func decode(_ row: Row) throws -> ApiKey {
        ApiKey(
            id: try row.get("id"), name: try row.get("name"),
            scopes: Set(try row.get("scopes", as: String.self).split(separator: ",").compactMap { Scope(rawValue: String($0)) }),
            merchants: try row.get("merchants", as: String?.self).map { Set(try JSON.decode([String].self, from: Array($0.utf8))) },
            createdAt: try row.get("created_at"), revokedAt: try row.get("revoked_at", as: Int64?.self),
            // A kind a newer version wrote gets the least a key can do here.
            kind: ApiKeyKind(rawValue: try row.get("kind", as: String.self)) ?? .publishable,
            origins: try row.get("origins", as: String?.self).map { Set(try JSON.decode([String].self, from: Array($0.utf8))) })
    }
}
