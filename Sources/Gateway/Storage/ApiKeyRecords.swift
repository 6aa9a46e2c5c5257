import Store

/// SQL over `api_keys`. Creating or revoking bumps `meta.keys_version` in the same transaction,
/// which running gateways poll to reload their key ring within a second.
enum ApiKeyRecords {
    static func insert(_ key: ApiKey, hash: String, in db: SQLiteConnection) throws {
        // The demo key is public: it lives in a sandbox process's memory, never in a database.
        guard hash != SandboxDemoKey.hash else {
            throw ConfigurationError(variable: "GATEWAY_BOOTSTRAP_API_KEY", message: "must not be the public sandbox demo key")
        }
        try db.run("""
            INSERT INTO api_keys (id, name, key_hash, scopes, merchants, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [key.id, key.name, hash, key.scopes.map(\.rawValue).sorted().joined(separator: ","),
                  key.merchants.map { OperationRecords.json($0.sorted()) }, key.createdAt, key.revokedAt])
        try bumpVersion(in: db)
    }

    /// Revokes a key; false when no active key has that id.
    static func revoke(id: String, now: Int64, in db: SQLiteConnection) throws -> Bool {
        let changed = try db.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, id]) > 0
        if changed { try bumpVersion(in: db) }
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

/// A stored inbound response, replayed for the same Idempotency-Key.
struct InboundRecord: Sendable {
    enum State: String, Sendable { case inFlight = "in_flight", done }
    var requestHash: String
    var state: State
    var status: Int?
    var headers: [[String]]
    var body: [UInt8]
    var createdAt: Int64
    var operationId: String?
    /// Until when an in-flight claim without an operation holds its key (nil: written before
    /// leases existed; `createdAt` + the lease then).
    var leaseExpiresAt: Int64?
    /// What to re-read to put a secret back into `body` at replay (the secret itself is never stored).
    var secretReference: String?
}

/// SQL over `inbound_requests` (caller-side idempotency, per API key, 24 h).
enum InboundRecords {
    enum Claim: Sendable {
        /// First time (or expired, or abandoned): the caller runs the request.
        case claimed
        case existing(InboundRecord)
    }

    /// Atomically claims `key` for this request, or returns what is already there. A record older
    /// than `retention` is gone; so is an in-flight claim with no operation whose lease ran out
    /// and that no request of this process is answering (`heldElsewhere`): its process died.
    static func claim(apiKeyId: String, key: String, requestHash: String, now: Int64, retention: Int64, lease: Int64,
                      heldElsewhere: () -> Bool, in db: SQLiteConnection) throws -> Claim {
        if let row = try db.query("""
            SELECT request_hash, state, status, headers, body, created_at, operation_id, lease_expires_at, secret_ref
            FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ?
            """, [apiKeyId, key]).first {
            let record = InboundRecord(
                requestHash: try row.get(0), state: InboundRecord.State(rawValue: try row.get(1)) ?? .done,
                status: try row.get(2, as: Int?.self),
                headers: try row.get(3, as: String?.self).map { try JSON.decode([[String]].self, from: Array($0.utf8)) } ?? [],
                body: try row.get(4, as: [UInt8]?.self) ?? [], createdAt: try row.get(5), operationId: try row.get(6, as: String?.self),
                leaseExpiresAt: try row.get(7, as: Int64?.self), secretReference: try row.get(8, as: String?.self))
            let expired = now - record.createdAt >= retention
            let abandoned = record.state == .inFlight && record.operationId == nil
                && now >= (record.leaseExpiresAt ?? record.createdAt + lease) && !heldElsewhere()
            if !expired && !abandoned { return .existing(record) }
            try db.run("DELETE FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ?", [apiKeyId, key])
        }
        try db.run("""
            INSERT INTO inbound_requests (api_key_id, idempotency_key, request_hash, state, created_at, lease_expires_at)
            VALUES (?, ?, ?, 'in_flight', ?, ?)
            """, [apiKeyId, key, requestHash, now, now + lease])
        return .claimed
    }

    static func attachOperation(_ operationId: String, apiKeyId: String, key: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE inbound_requests SET operation_id = ? WHERE api_key_id = ? AND idempotency_key = ?", [operationId, apiKeyId, key])
    }

    static func complete(apiKeyId: String, key: String, status: Int, headers: [[String]], body: [UInt8], secretReference: String? = nil,
                         in db: SQLiteConnection) throws {
        try db.run("""
            UPDATE inbound_requests SET state = 'done', status = ?, headers = ?, body = ?, secret_ref = ?
            WHERE api_key_id = ? AND idempotency_key = ?
            """, [status, OperationRecords.json(headers), body, secretReference, apiKeyId, key])
    }

    /// Forgets a claim whose request produced nothing worth replaying (it may be retried as new);
    /// a claim bound to an operation stays: that operation is the key's answer.
    static func release(apiKeyId: String, key: String, in db: SQLiteConnection) throws {
        try db.run("""
            DELETE FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ? AND state = 'in_flight' AND operation_id IS NULL
            """, [apiKeyId, key])
    }

    static func purge(olderThan cutoff: Int64, in db: SQLiteConnection) throws -> Int {
        try db.run("DELETE FROM inbound_requests WHERE created_at < ?", [cutoff])
    }
}
