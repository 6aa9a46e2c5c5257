import JSON
import Postgres

/// SQL over `inbound_requests` on PostgreSQL (caller-side idempotency, per API key, 24 h).
enum PostgresInboundRecords {
    static let key = "api_key_id = $1 AND idempotency_key = $2"

    /// Atomically claims `key` for this request, or answers what is already there. The primary key
    /// decides between concurrent claims (the second insert waits for the first to commit); an
    /// existing row is locked while it is judged. A record older than `retention` is gone; so is
    /// an in-flight claim with no operation whose lease ran out and that no request of this
    /// process is answering (`heldElsewhere`): its replica died or gave up.
    static func claim(
        _ inbound: InboundKey, requestHash: String, now: Int64, retention: Int64, lease: Int64,
        heldElsewhere: () -> Bool, in db: PostgresConnection
    ) async throws -> InboundClaim {
        let keyParameters: [PostgresValue] = [.text(inbound.apiKeyId), .text(inbound.key)]
        let claim: [PostgresValue] = keyParameters + [.text(requestHash), .int64(now), .int64(now + lease)]
        let inserted = try await db.query(
            """
            INSERT INTO inbound_requests (api_key_id, idempotency_key, request_hash, state, created_at, lease_expires_at)
            VALUES ($1, $2, $3, 'in_flight', $4, $5) ON CONFLICT (api_key_id, idempotency_key) DO NOTHING
            """, claim)
        if inserted.affected == 1 { return .claimed }
        if let row = try await db.query(
            """
            SELECT request_hash, state, status, headers, body, created_at, operation_id, lease_expires_at, secret_ref
            FROM inbound_requests WHERE \(key) FOR UPDATE
            """, keyParameters
        ).rows.first {
            let record = InboundRecord(
                requestHash: try row.string("request_hash"), state: InboundRecord.State(rawValue: try row.string("state")) ?? .done,
                status: try row.optionalInt64("status").map { Int($0) },
                headers: try row.optionalString("headers").map { try JSON.decode([[String]].self, from: Array($0.utf8)) } ?? [],
                body: try row.optionalBytes("body") ?? [], createdAt: try row.int64("created_at"),
                operationId: try row.optionalString("operation_id"), leaseExpiresAt: try row.optionalInt64("lease_expires_at"),
                secretReference: try row.optionalString("secret_ref"))
            let expired = now - record.createdAt >= retention
            let abandoned =
                record.state == .inFlight && record.operationId == nil
                && now >= (record.leaseExpiresAt ?? record.createdAt + lease) && !heldElsewhere()
            if !expired && !abandoned { return .existing(record) }
        }
        // Gone (expired, abandoned, or deleted since the insert): this request's claim replaces it.
        _ = try await db.query(
            """
            INSERT INTO inbound_requests (api_key_id, idempotency_key, request_hash, state, created_at, lease_expires_at)
            VALUES ($1, $2, $3, 'in_flight', $4, $5)
            ON CONFLICT (api_key_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash, state = 'in_flight',
                status = NULL, headers = NULL, body = NULL, created_at = excluded.created_at, operation_id = NULL,
                lease_expires_at = excluded.lease_expires_at, secret_ref = NULL
            """, claim)
        return .claimed
    }

    static func attachOperation(_ operationId: String, to inbound: InboundKey, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE inbound_requests SET operation_id = $3 WHERE \(key)", [.text(inbound.apiKeyId), .text(inbound.key), .text(operationId)])
    }

    static func complete(_ inbound: InboundKey, answer: InboundAnswer, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE inbound_requests SET state = 'done', status = $3, headers = $4, body = $5, secret_ref = $6 WHERE \(key)",
            [
                .text(inbound.apiKeyId), .text(inbound.key), .int(answer.status), .text(OperationRecords.json(answer.headers)),
                .bytes(answer.body), .nullable(answer.secretReference),
            ])
    }

    /// Forgets a claim whose request produced nothing worth replaying; a claim bound to an
    /// operation stays: that operation is the key's answer.
    static func release(_ inbound: InboundKey, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "DELETE FROM inbound_requests WHERE \(key) AND state = 'in_flight' AND operation_id IS NULL", [.text(inbound.apiKeyId), .text(inbound.key)])
    }
}
