import Store

/// SQL over `api_keys`. Creating or revoking bumps `meta.keys_version` in the same transaction,
/// which running gateways poll to reload their key ring within a second.
enum ApiKeyRecords {
    static func insert(_ key: ApiKey, hash: String, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO api_keys (id, name, key_hash, scopes, merchants, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                key.id, key.name, hash, key.scopes.map(\.rawValue).sorted().joined(separator: ","),
                key.merchants.map { OperationRecords.json($0.sorted()) }, key.createdAt, key.revokedAt,
            ])
        try bumpVersion(in: db)
        db.publishAfterCommit(.apiKeysChanged)
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
        try db.query("SELECT id, name, scopes, merchants, created_at, revoked_at FROM api_keys ORDER BY created_at, id").map(decode)
    }

    /// Active keys by hash, for the key ring.
    static func activeByHash(in db: SQLiteConnection) throws -> [String: ApiKey] {
        var result: [String: ApiKey] = [:]
        for row in try db.query("SELECT id, name, scopes, merchants, created_at, revoked_at, key_hash FROM api_keys WHERE revoked_at IS NULL") {
            result[try row.get("key_hash")] = try decode(row)
        }
        return result
    }

    static func hashExists(_ hash: String, in db: SQLiteConnection) throws -> Bool {
        try !db.query("SELECT 1 FROM api_keys WHERE key_hash = ?", [hash]).isEmpty
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
            createdAt: try row.get("created_at"), revokedAt: try row.get("revoked_at", as: Int64?.self))
    }
}
