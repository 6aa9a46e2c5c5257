import JSON
import Store

/// SQL over the webhook tables. Every function runs inside the caller's transaction.
enum WebhookRecords {
    static func decodeEvents(_ text: String) -> [WebhookEventType] {
        guard case .array(let items)? = try? JSON.decode(JSONValue.self, from: Array(text.utf8)) else { return [] }
        return items.compactMap { $0.stringValue.flatMap(WebhookEventType.init(rawValue:)) }
    }

    static func encodeEvents(_ events: [WebhookEventType]?) -> String? {
        events.map { JSONValue.array($0.map { .string($0.rawValue) }).serialized }
    }

    // MARK: Endpoints

    static func insert(_ endpoint: WebhookEndpoint, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO webhook_endpoints (id, url, events, description, secret_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                endpoint.id, endpoint.url, encodeEvents(endpoint.events), endpoint.description, endpoint.secretKey,
                endpoint.createdAt, endpoint.updatedAt,
            ])
    }

    static func endpoint(_ id: String, in db: SQLiteConnection) throws -> WebhookEndpoint? {
        try db.queryOne("SELECT * FROM webhook_endpoints WHERE id = ?", [id]).map(decodeEndpoint)
    }

    static func endpoints(in db: SQLiteConnection) throws -> [WebhookEndpoint] {
        try db.query("SELECT * FROM webhook_endpoints ORDER BY id").map(decodeEndpoint)
    }

    static func countEndpoints(in db: SQLiteConnection) throws -> Int {
        try db.queryOne("SELECT count(*) FROM webhook_endpoints")!.get(0, as: Int.self)
    }

    /// Deletes the endpoint with its deliveries and their attempts.
    static func delete(_ id: String, in db: SQLiteConnection) throws -> Bool {
        try db.run("DELETE FROM webhook_endpoints WHERE id = ?", [id]) > 0
    }

    /// The new key signs from now on; the old one too, until `previousExpiresAt`.
    static func rotate(_ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64, in db: SQLiteConnection) throws -> Bool {
        try db.run(
            """
            UPDATE webhook_endpoints SET previous_secret_key = secret_key, previous_secret_expires_at = ?, secret_key = ?, updated_at = ?
            WHERE id = ?
            """, [previousExpiresAt, newKey, now, id]) > 0
    }

    private static func decodeEndpoint(_ row: Row) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.get("id"), url: try row.get("url"), events: try row.get("events", as: String?.self).map(decodeEvents),
            description: try row.get("description", as: String?.self), secretKey: try row.get("secret_key"),
            previousSecretKey: try row.get("previous_secret_key", as: [UInt8]?.self),
            previousSecretExpiresAt: try row.get("previous_secret_expires_at", as: Int64?.self),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"),
            failingSince: try row.get("failing_since", as: Int64?.self), disabledAt: try row.get("disabled_at", as: Int64?.self),
            disabledReason: try row.get("disabled_reason", as: String?.self))
    }

    // MARK: Events

    /// Records `event` with one delivery per enabled endpoint subscribed to its type; answers its
    /// id, or nil when no endpoint wants it (then nothing is stored and no sequence number is
    /// used). An event with a fact id already stored stores nothing and answers that id.
    @discardableResult
    static func record(_ event: NewWebhookEvent, at now: Int64, in db: SQLiteConnection) throws -> String? {
        if let factId = event.factId, try db.queryOne("SELECT 1 FROM webhook_events WHERE id = ?", [factId]) != nil { return factId }
        let endpoints = try db.query("SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id").compactMap { row -> String? in
            let id: String = try row.get("id")
            guard let events = try row.get("events", as: String?.self) else { return id }
            return decodeEvents(events).contains(event.type) ? id : nil
        }
        guard !endpoints.isEmpty else { return nil }
        let sequence = try db.queryOne(
            """
            INSERT INTO webhook_sequences (merchant_id, last) VALUES (?, 1)
            ON CONFLICT (merchant_id) DO UPDATE SET last = last + 1 RETURNING last
            """, [event.merchantId])!.get(0, as: Int64.self)
        let id = event.factId ?? Identifiers.prefixed("evt_", now: now)
        try db.run(
            """
            INSERT INTO webhook_events (id, type, merchant_id, sequence, created_at, body, trace_id, trace_flags, trace_state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                id, event.type.rawValue, event.merchantId, sequence, now, event.body(id: id, sequence: sequence, at: now), event.trace?.traceId,
                event.trace.map { Int($0.flags) }, event.trace?.traceState,
            ])
        for endpoint in endpoints { try insertDelivery(eventId: id, endpointId: endpoint, now: now, in: db) }
        // Dispatchers look once this transaction has committed (before, they would read nothing).
        db.publishAfterCommit(.deliveriesDue)
        return id
    }

    /// Whether any endpoint is enabled (most gateways have none: their endings record nothing).
    static func anyEnabledEndpoint(in db: SQLiteConnection) throws -> Bool {
        try db.queryOne("SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL LIMIT 1") != nil
    }

    // MARK: Deliveries

    @discardableResult
    static func insertDelivery(eventId: String, endpointId: String, now: Int64, in db: SQLiteConnection) throws -> String {
        let id = Identifiers.prefixed("whd_", now: now)
        try db.run(
            """
            INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, attempts, due_at, created_at, updated_at)
            VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)
            """, [id, endpointId, eventId, now, now, now])
        return id
    }

    /// Leases up to `limit` due deliveries of enabled endpoints, oldest first, at most
    /// `perEndpoint[endpoint]` more for each endpoint (absent: `defaultPerEndpoint`).
    /// A first attempt is due `firstDelay` after its event.
    static func claim(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int,
        inFlight: [String: Int], in db: SQLiteConnection
    ) throws -> [ClaimedDelivery] {
        let candidates = try db.query(
            """
            SELECT * FROM (
                SELECT d.id, d.endpoint_id, d.event_id, d.attempts, v.trace_id, v.trace_flags, v.trace_state,
                       row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.due_at, d.id) AS rank
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                JOIN webhook_events v ON v.id = d.event_id
                WHERE d.due_at IS NOT NULL AND d.due_at + CASE WHEN d.attempts = 0 THEN ? ELSE 0 END <= ?
                  AND e.disabled_at IS NULL AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)
            ) WHERE rank <= ? ORDER BY rank, id LIMIT ?
            """, [firstDelay, now, now, perEndpointLimit, limit + inFlight.values.reduce(0, +)])
        var taken = inFlight
        var claimed: [ClaimedDelivery] = []
        for row in candidates where claimed.count < limit {
            let delivery = ClaimedDelivery(
                id: try row.get("id"), endpointId: try row.get("endpoint_id"), eventId: try row.get("event_id"),
                attempts: try row.get("attempts"), trace: try OperationRecords.trace(row))
            guard taken[delivery.endpointId, default: 0] < perEndpointLimit else { continue }
            taken[delivery.endpointId, default: 0] += 1
            try db.run("UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ? WHERE id = ?", [owner, leaseUntil, delivery.id])
            claimed.append(delivery)
        }
        return claimed
    }

    /// When the next delivery of an enabled endpoint falls due (nil: none waiting); a leased one
    /// not before its lease ends.
    static func nextDue(firstDelay: Int64, in db: SQLiteConnection) throws -> Int64? {
        try db.queryOne(
            """
            SELECT min(max(d.due_at + CASE WHEN d.attempts = 0 THEN ? ELSE 0 END, coalesce(d.lease_expires_at, 0))) FROM webhook_deliveries d
            JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.due_at IS NOT NULL AND e.disabled_at IS NULL
            """, [firstDelay])?.get(0, as: Int64?.self)
    }

    /// Leases of other (dead) processes end now: their deliveries are attempted again.
    static func releaseForeignLeases(owner: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL AND lease_owner != ?", [owner])
    }

    static func releaseAll(owner: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?", [owner])
    }

    static func release(_ id: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ?", [id])
    }

    static func eventBody(_ id: String, in db: SQLiteConnection) throws -> [UInt8]? {
        try db.queryOne("SELECT body FROM webhook_events WHERE id = ?", [id])?.get(0, as: [UInt8].self)
    }

    /// Records one attempt and applies its decision to the delivery and the endpoint.
    static func recordAttempt(
        _ delivery: ClaimedDelivery, _ attempt: WebhookAttempt, decision: DeliveryDecision, now: Int64,
        in db: SQLiteConnection
    ) throws {
        try db.run(
            "INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms, response, error) VALUES (?, ?, ?, ?, ?, ?)",
            [delivery.id, attempt.at, attempt.status, attempt.durationMs, attempt.response, attempt.error])
        try db.run(
            """
            UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, due_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                   updated_at = ? WHERE id = ?
            """, [decision.state.rawValue, decision.nextAttemptAt, now, delivery.id])
        try db.run("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?", [decision.failingSince, delivery.endpointId])
        if let reason = decision.disableReason {
            try db.run(
                "UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ?, updated_at = ? WHERE id = ? AND disabled_at IS NULL",
                [now, reason, now, delivery.endpointId])
        }
    }

    /// A page of one endpoint's deliveries with their attempts, newest first.
    static func deliveries(endpointId: String, limit: Int, after: String?, in db: SQLiteConnection) throws -> [WebhookDeliveryLog] {
        var bindings: [any SQLiteValueConvertible] = [endpointId]
        var filter = ""
        if let after { filter = "AND d.id < ?"; bindings.append(after) }
        bindings.append(limit)
        return try db.query(
            """
            SELECT d.*, ev.type, ev.merchant_id, ev.sequence FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
            WHERE d.endpoint_id = ? \(filter) ORDER BY d.id DESC LIMIT ?
            """, bindings
        ).map { try deliveryLog($0, in: db) }
    }

    static func delivery(_ id: String, in db: SQLiteConnection) throws -> (endpointId: String, eventId: String)? {
        try db.queryOne("SELECT endpoint_id, event_id FROM webhook_deliveries WHERE id = ?", [id]).map {
            (try $0.get("endpoint_id"), try $0.get("event_id"))
        }
    }

    static func deliveryLog(_ id: String, in db: SQLiteConnection) throws -> WebhookDeliveryLog? {
        try db.queryOne(
            """
            SELECT d.*, ev.type, ev.merchant_id, ev.sequence FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id WHERE d.id = ?
            """, [id]
        ).map { try deliveryLog($0, in: db) }
    }

    private static func deliveryLog(_ row: Row, in db: SQLiteConnection) throws -> WebhookDeliveryLog {
        let id: String = try row.get("id")
        let attempts = try db.query("SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id", [id]).map { attempt in
            WebhookAttempt(
                at: try attempt.get("at"), status: try attempt.get("status", as: Int?.self),
                durationMs: try attempt.get("duration_ms"), response: try attempt.get("response", as: String?.self),
                error: try attempt.get("error", as: String?.self))
        }
        return WebhookDeliveryLog(
            id: id, endpointId: try row.get("endpoint_id"), eventId: try row.get("event_id"), eventType: try row.get("type"),
            merchantId: try row.get("merchant_id"), sequence: try row.get("sequence"), state: try row.get("state"),
            attemptCount: try row.get("attempts"), nextAttemptAt: try row.get("due_at", as: Int64?.self),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"), attempts: attempts)
    }
}
