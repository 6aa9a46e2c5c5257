import JSON
import Postgres

/// SQL over webhook deliveries and their attempts on PostgreSQL: claims, leases, attempts and
/// the delivery log. Every function runs inside the caller's transaction (see
/// `PostgresWebhookRecords` for the lock order).
///
/// A lease is an owner and an expiry time. Processes sharing the database each lease
/// deliveries; a dead one's leases end when they expire, and claims then take its deliveries.
enum PostgresDeliveryRecords {
    /// A new delivery of `eventId` to `endpointId`, due at once.
    static func insert(eventId: String, endpointId: String, now: Int64, in db: PostgresConnection) async throws -> String {
        let id = Identifiers.prefixed("whd_", now: now)
        _ = try await db.query(
            """
            INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, attempts, due_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)
            """, [.text(id), .text(endpointId), .text(eventId), .int64(now)])
        return id
    }

    /// The delivery's endpoint and event. `held`: the row is locked `FOR KEY SHARE` until commit
    /// (the retention sweep then waits to purge it, so its event stays for a new delivery of it).
    static func delivery(_ id: String, held: Bool = false, in db: PostgresConnection) async throws -> (endpointId: String, eventId: String)? {
        try await db.query("SELECT endpoint_id, event_id FROM webhook_deliveries WHERE id = $1\(held ? " FOR KEY SHARE" : "")", [.text(id)])
            .rows.first.map { (try $0.string("endpoint_id"), try $0.string("event_id")) }
    }

    /// Leases up to `limit` due deliveries of enabled endpoints, oldest due first, round-robin
    /// over endpoints. An endpoint gets at most `perEndpointLimit` leases alive at once in
    /// total, over every process: its other owners' live leases count, and so do the caller's
    /// (its live leases or `inFlight`, whichever is more). A first attempt is due `firstDelay`
    /// after its event.
    ///
    /// Two statements: the first locks the endpoints with work due (`SKIP LOCKED`: an endpoint
    /// another process is claiming for is left to it), so claims for one endpoint run one at a
    /// time; the second starts after the lock, so it counts every lease committed before and
    /// takes the deliveries in one CTE (`FOR UPDATE SKIP LOCKED`, the LIMIT evaluated once).
    static func claim(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int,
        inFlight: [String: Int], in db: PostgresConnection
    ) async throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        let endpoints = try await db.query(
            """
            SELECT e.id FROM webhook_endpoints e WHERE e.disabled_at IS NULL AND EXISTS (
                SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.due_at <= $2
                  AND d.due_at + CASE WHEN d.attempts = 0 THEN $1 ELSE 0 END <= $2 AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $2))
            ORDER BY e.id FOR NO KEY UPDATE OF e SKIP LOCKED
            """, [.int64(firstDelay), .int64(now)]
        ).rows.map { try $0.string("id") }
        guard !endpoints.isEmpty else { return [] }
        let wanted = JSONValue.array(
            endpoints.map { .object(["endpoint": .string($0), "in_flight": .number(Double(inFlight[$0, default: 0]))]) })
        return try await db.query(
            """
            WITH wanted AS (
                SELECT * FROM jsonb_to_recordset($1) AS w(endpoint text, in_flight bigint)
            ), live AS (
                SELECT endpoint_id, count(*) FILTER (WHERE lease_owner = $2) AS own, count(*) FILTER (WHERE lease_owner <> $2) AS others
                FROM webhook_deliveries WHERE due_at IS NOT NULL AND lease_expires_at > $3 AND endpoint_id IN (SELECT endpoint FROM wanted)
                GROUP BY endpoint_id
            ), room AS (
                SELECT w.endpoint, greatest($4 - greatest(w.in_flight, coalesce(l.own, 0)) - coalesce(l.others, 0), 0) AS n
                FROM wanted w LEFT JOIN live l ON l.endpoint_id = w.endpoint
            ), locked AS (
                SELECT p.* FROM room CROSS JOIN LATERAL (
                    SELECT d.id, d.endpoint_id, d.due_at FROM webhook_deliveries d
                    WHERE d.endpoint_id = room.endpoint AND d.due_at <= $3
                      AND d.due_at + CASE WHEN d.attempts = 0 THEN $5 ELSE 0 END <= $3 AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $3)
                    ORDER BY d.due_at, d.id LIMIT room.n FOR UPDATE SKIP LOCKED
                ) p
            ), chosen AS (
                SELECT id, row_number() OVER (PARTITION BY endpoint_id ORDER BY due_at, id) AS rank FROM locked ORDER BY rank, id LIMIT $6
            )
            UPDATE webhook_deliveries d SET lease_owner = $2, lease_expires_at = $7
            FROM chosen c, webhook_events v WHERE d.id = c.id AND v.id = d.event_id
            RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, v.trace_id, v.trace_flags, v.trace_state
            """,
            [
                .json(wanted.serialized), .text(owner), .int64(now), .int64(Int64(perEndpointLimit)), .int64(firstDelay),
                .int64(Int64(limit)), .int64(leaseUntil),
            ]
        ).rows.map { row in
            ClaimedDelivery(
                id: try row.string("id"), endpointId: try row.string("endpoint_id"), eventId: try row.string("event_id"),
                attempts: Int(try row.int64("attempts")), trace: try PostgresOperationRecords.trace(row))
        }
    }

    /// When the next delivery of an enabled endpoint falls due (nil: none waiting); a leased one
    /// not before its lease ends.
    static func nextDue(firstDelay: Int64, in db: PostgresConnection) async throws -> Int64? {
        try await db.query(
            """
            SELECT min(greatest(d.due_at + CASE WHEN d.attempts = 0 THEN $1 ELSE 0 END, d.lease_expires_at)) AS due
            FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.due_at IS NOT NULL AND e.disabled_at IS NULL
            """, [.int64(firstDelay)]
        ).rows.first?.optionalInt64("due")
    }

    static func releaseAll(owner: String, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1", [.text(owner)])
    }

    static func release(_ id: String, in db: PostgresConnection) async throws {
        _ = try await db.query("UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1", [.text(id)])
    }

    static func eventBody(_ id: String, in db: PostgresConnection) async throws -> [UInt8]? {
        try await db.query("SELECT body FROM webhook_events WHERE id = $1", [.text(id)]).rows.first?.bytes("body")
    }

    /// Locks the endpoint's row until commit and answers its failure streak; nil when the
    /// endpoint is gone. Concurrent attempts to one endpoint record one after the other, each
    /// seeing the streak the previous one left.
    static func lockEndpoint(_ id: String, in db: PostgresConnection) async throws -> LockedEndpoint? {
        try await db.query("SELECT failing_since FROM webhook_endpoints WHERE id = $1 FOR NO KEY UPDATE", [.text(id)])
            .rows.first.map { LockedEndpoint(failingSince: try $0.optionalInt64("failing_since")) }
    }

    struct LockedEndpoint {
        var failingSince: Int64?
    }

    /// Records one attempt and applies its decision to the delivery and the endpoint, in one statement.
    static func recordAttempt(
        _ delivery: ClaimedDelivery, _ attempt: WebhookAttempt, decision: DeliveryDecision, now: Int64, in db: PostgresConnection
    ) async throws {
        _ = try await db.query(
            """
            WITH attempt AS (
                INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms, response, error) VALUES ($1, $2, $3, $4, $5, $6)
            ), delivery AS (
                UPDATE webhook_deliveries SET state = $7, attempts = attempts + 1, due_at = $8, lease_owner = NULL, lease_expires_at = NULL,
                       updated_at = $9 WHERE id = $1
            )
            UPDATE webhook_endpoints SET failing_since = $10,
                   disabled_reason = CASE WHEN $11::text IS NOT NULL AND disabled_at IS NULL THEN $11::text ELSE disabled_reason END,
                   updated_at = CASE WHEN $11::text IS NOT NULL AND disabled_at IS NULL THEN $9 ELSE updated_at END,
                   disabled_at = CASE WHEN $11::text IS NOT NULL AND disabled_at IS NULL THEN $9 ELSE disabled_at END
            WHERE id = $12
            """,
            [
                .text(delivery.id), .int64(attempt.at), attempt.status.map { .int64(Int64($0)) } ?? .null, .int64(attempt.durationMs),
                .nullable(attempt.response), .nullable(attempt.error), .text(decision.state.rawValue),
                decision.nextAttemptAt.map(PostgresValue.int64) ?? .null, .int64(now), decision.failingSince.map(PostgresValue.int64) ?? .null,
                .nullable(decision.disableReason), .text(delivery.endpointId),
            ])
    }

    // MARK: The delivery log

    /// A page of one endpoint's deliveries with their attempts, newest first.
    static func page(endpointId: String, limit: Int, after: String?, in db: PostgresConnection) async throws -> [WebhookDeliveryLog] {
        let rows = try await db.query(
            """
            SELECT d.*, ev.type, ev.merchant_id, ev.sequence FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
            WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.id < $2::text) ORDER BY d.id DESC LIMIT $3
            """, [.text(endpointId), .nullable(after), .int64(Int64(limit))]
        ).rows
        return try await logs(rows, in: db)
    }

    static func log(_ id: String, in db: PostgresConnection) async throws -> WebhookDeliveryLog? {
        let rows = try await db.query(
            """
            SELECT d.*, ev.type, ev.merchant_id, ev.sequence FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
            WHERE d.id = $1
            """, [.text(id)]
        ).rows
        return try await logs(rows, in: db).first
    }

    /// The deliveries of `rows` with their attempts, read in one more query.
    private static func logs(_ rows: [PostgresRow], in db: PostgresConnection) async throws -> [WebhookDeliveryLog] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.string("id") }
        var attempts: [String: [WebhookAttempt]] = [:]
        for attempt in try await db.query(
            "SELECT * FROM webhook_attempts WHERE delivery_id = \(PostgresTextList.any(1)) ORDER BY id", [PostgresTextList.value(ids)]
        ).rows {
            attempts[try attempt.string("delivery_id"), default: []].append(
                WebhookAttempt(
                    at: try attempt.int64("at"), status: try attempt.optionalInt64("status").map { Int($0) },
                    durationMs: try attempt.int64("duration_ms"), response: try attempt.optionalString("response"),
                    error: try attempt.optionalString("error")))
        }
        return try rows.map { row in
            let id = try row.string("id")
            return WebhookDeliveryLog(
                id: id, endpointId: try row.string("endpoint_id"), eventId: try row.string("event_id"), eventType: try row.string("type"),
                merchantId: try row.string("merchant_id"), sequence: try row.int64("sequence"), state: try row.string("state"),
                attemptCount: Int(try row.int64("attempts")), nextAttemptAt: try row.optionalInt64("due_at"),
                createdAt: try row.int64("created_at"), updatedAt: try row.int64("updated_at"), attempts: attempts[id] ?? [])
        }
    }
}
