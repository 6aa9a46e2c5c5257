import Store

/// SQL over `inbound_requests` (caller-side idempotency, per API key, 24 h).
enum InboundRecords {
    /// Atomically claims `key` for this request, or returns what is already there. A record older
    /// than `retention` is gone; so is an in-flight claim with no operation whose lease ran out
    /// and that no request of this process is answering (`heldElsewhere`): its process died.
    static func claim(
        apiKeyId: String, key: String, requestHash: String, now: Int64, retention: Int64, lease: Int64,
        heldElsewhere: () -> Bool, in db: SQLiteConnection
    ) throws -> InboundClaim {
        if let row = try db.query(
            """
            SELECT request_hash, state, status, headers, body, created_at, operation_id, lease_expires_at, secret_ref
            FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ?
            """, [apiKeyId, key]
        ).first {
            let record = InboundRecord(
                requestHash: try row.get(0), state: InboundRecord.State(rawValue: try row.get(1)) ?? .done,
                status: try row.get(2, as: Int?.self),
                headers: try row.get(3, as: String?.self).map { try JSON.decode([[String]].self, from: Array($0.utf8)) } ?? [],
                body: try row.get(4, as: [UInt8]?.self) ?? [], createdAt: try row.get(5), operationId: try row.get(6, as: String?.self),
                leaseExpiresAt: try row.get(7, as: Int64?.self), secretReference: try row.get(8, as: String?.self))
            let expired = now - record.createdAt >= retention
            let abandoned =
                record.state == .inFlight && record.operationId == nil
                && now >= (record.leaseExpiresAt ?? record.createdAt + lease) && !heldElsewhere()
            if !expired && !abandoned { return .existing(record) }
            try db.run("DELETE FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ?", [apiKeyId, key])
        }
        try db.run(
            """
            INSERT INTO inbound_requests (api_key_id, idempotency_key, request_hash, state, created_at, lease_expires_at)
            VALUES (?, ?, ?, 'in_flight', ?, ?)
            """, [apiKeyId, key, requestHash, now, now + lease])
        return .claimed
    }

    static func attachOperation(_ operationId: String, apiKeyId: String, key: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE inbound_requests SET operation_id = ? WHERE api_key_id = ? AND idempotency_key = ?", [operationId, apiKeyId, key])
    }

    static func complete(
        apiKeyId: String, key: String, status: Int, headers: [[String]], body: [UInt8], secretReference: String? = nil,
        in db: SQLiteConnection
    ) throws {
        try db.run(
            """
            UPDATE inbound_requests SET state = 'done', status = ?, headers = ?, body = ?, secret_ref = ?
            WHERE api_key_id = ? AND idempotency_key = ?
            """, [status, OperationRecords.json(headers), body, secretReference, apiKeyId, key])
    }

    /// Forgets a claim whose request produced nothing worth replaying (it may be retried as new);
    /// a claim bound to an operation stays: that operation is the key's answer.
    static func release(apiKeyId: String, key: String, in db: SQLiteConnection) throws {
        try db.run(
            """
            DELETE FROM inbound_requests WHERE api_key_id = ? AND idempotency_key = ? AND state = 'in_flight' AND operation_id IS NULL
            """, [apiKeyId, key])
    }

    static func purge(olderThan cutoff: Int64, in db: SQLiteConnection) throws -> Int {
        try db.run("DELETE FROM inbound_requests WHERE created_at < ?", [cutoff])
    }
}
