import JSON
import Postgres

/// SQL over the webhook endpoints and the outbox on PostgreSQL. Every function runs inside the
/// caller's transaction, at READ COMMITTED: each statement sees what committed before it
/// started, so a statement that follows a row lock sees the work of whoever held it.
///
/// Row locks go endpoint rows first, then the merchants' `webhook_sequences` rows (sorted),
/// then delivery rows, so the webhook transactions of several processes do not deadlock (a
/// rare cycle with other tables ends in 40P01, and the store runs the transaction again). The
/// outbox holds endpoints `FOR KEY SHARE`: a concurrent delete waits for it instead of breaking
/// the new deliveries' foreign key. Claims and attempts hold them `FOR NO KEY UPDATE`, which
/// serialises those per endpoint and does not block the outbox.
enum PostgresWebhookRecords {
    // MARK: Endpoints

    static func insert(_ endpoint: WebhookEndpoint, in db: PostgresConnection) async throws {
        _ = try await db.query(
            """
            INSERT INTO webhook_endpoints (id, url, events, description, secret_key, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            [
                .text(endpoint.id), .text(endpoint.url), .nullable(WebhookRecords.encodeEvents(endpoint.events)),
                .nullable(endpoint.description), .bytes(endpoint.secretKey), .int64(endpoint.createdAt), .int64(endpoint.updatedAt),
            ])
    }

    /// `held`: the row is locked `FOR KEY SHARE` until commit (not deleted meanwhile).
    static func endpoint(_ id: String, held: Bool = false, in db: PostgresConnection) async throws -> WebhookEndpoint? {
        try await db.query("SELECT * FROM webhook_endpoints WHERE id = $1\(held ? " FOR KEY SHARE" : "")", [.text(id)]).rows.first.map(decodeEndpoint)
    }

    static func endpoints(in db: PostgresConnection) async throws -> [WebhookEndpoint] {
        try await db.query("SELECT * FROM webhook_endpoints ORDER BY id").rows.map(decodeEndpoint)
    }

    /// Stores `endpoint` unless `maxEndpoints` exist. Creations are serialised across processes
    /// (a transaction-scoped advisory lock), so two replicas cannot both take the last place.
    static func create(_ endpoint: WebhookEndpoint, maxEndpoints: Int, in db: PostgresConnection) async throws -> Bool {
        _ = try await db.query("SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints'))")
        let count = try await db.query("SELECT count(*) AS n FROM webhook_endpoints").rows.first?.int64("n") ?? 0
        guard count < maxEndpoints else { return false }
        try await insert(endpoint, in: db)
        return true
    }

    /// Deletes the endpoint with its deliveries and their attempts (cascade).
    static func delete(_ id: String, in db: PostgresConnection) async throws -> Bool {
        try await db.query("DELETE FROM webhook_endpoints WHERE id = $1", [.text(id)]).affected > 0
    }

    /// The new key signs from now on; the old one too, until `previousExpiresAt`. The endpoint as it is then.
    static func rotate(
        _ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64, in db: PostgresConnection
    ) async throws -> WebhookEndpoint? {
        try await db.query(
            """
            UPDATE webhook_endpoints SET previous_secret_key = secret_key, previous_secret_expires_at = $1, secret_key = $2, updated_at = $3
            WHERE id = $4 RETURNING *
            """, [.int64(previousExpiresAt), .bytes(newKey), .int64(now), .text(id)]
        ).rows.first.map(decodeEndpoint)
    }

    private static func decodeEndpoint(_ row: PostgresRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.string("id"), url: try row.string("url"), events: try row.optionalString("events").map(WebhookRecords.decodeEvents),
            description: try row.optionalString("description"), secretKey: try row.bytes("secret_key"),
            previousSecretKey: try row.optionalBytes("previous_secret_key"),
            previousSecretExpiresAt: try row.optionalInt64("previous_secret_expires_at"),
            createdAt: try row.int64("created_at"), updatedAt: try row.int64("updated_at"),
            failingSince: try row.optionalInt64("failing_since"), disabledAt: try row.optionalInt64("disabled_at"),
            disabledReason: try row.optionalString("disabled_reason"))
    }

    // MARK: The outbox

    /// Whether any endpoint is enabled (most gateways have none: their endings record nothing).
    static func anyEnabledEndpoint(in db: PostgresConnection) async throws -> Bool {
        try await !db.query("SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL LIMIT 1").rows.isEmpty
    }

    /// Records one event (see the batch below); answers its id, nil when no endpoint wanted it.
    @discardableResult
    static func record(_ event: NewWebhookEvent, at now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws -> String? {
        try await record([event], now: now, in: db, notices: notices)[0]
    }

    /// Records `events` with one delivery each per enabled endpoint subscribed to its type;
    /// answers their ids, nil for one no endpoint wants (nothing stored, no sequence number
    /// used). An event whose fact id is stored already stores nothing and answers that id.
    /// When something is stored, the transaction's commit publishes `.deliveriesDue`.
    ///
    /// Gap-free, ordered sequences across processes: each merchant's counter row is locked
    /// first and held to commit, so one merchant's transactions number their events one after
    /// the other; a number is taken only with its event (a fact already stored, also by a
    /// transaction that committed while this one waited for the lock, takes none).
    @discardableResult
    static func record(
        _ events: [NewWebhookEvent], now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices
    ) async throws -> [String?] {
        guard !events.isEmpty else { return [] }
        let endpoints = try await db.query(
            "SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id FOR KEY SHARE"
        ).rows.map { row in (id: try row.string("id"), events: try row.optionalString("events").map(WebhookRecords.decodeEvents)) }
        let wanted = events.map { event in endpoints.filter { $0.events?.contains(event.type) ?? true }.map(\.id) }
        var last = try await lockCounters(of: Set(zip(events, wanted).filter { !$0.1.isEmpty }.map(\.0.merchantId)), in: db)
        // A fact no endpoint wants now may have been stored when one did: it answers its id, as recording it again does.
        let unwantedFacts = zip(events, wanted).compactMap { $1.isEmpty ? $0.factId : nil }
        let storedFacts = try await storedEvents(unwantedFacts, in: db)
        var ids: [String?] = []
        var stored = false
        for (event, endpoints) in zip(events, wanted) {
            guard !endpoints.isEmpty, let previous = last[event.merchantId] else {
                ids.append(event.factId.flatMap { storedFacts.contains($0) ? $0 : nil })
                continue
            }
            let id = event.factId ?? Identifiers.prefixed("evt_", now: now)
            if try await insert(event, id: id, sequence: previous + 1, endpoints: endpoints, now: now, in: db) {
                last[event.merchantId] = previous + 1
                stored = true
            }
            ids.append(id)
        }
        // Dispatchers of every replica look once this transaction has committed.
        if stored { notices.append(.deliveriesDue) }
        return ids
    }

    /// Locks the merchants' counter rows (created at 0 when missing) in a fixed order until
    /// commit; answers each one's last number as it is once the lock is held.
    private static func lockCounters(of merchants: Set<String>, in db: PostgresConnection) async throws -> [String: Int64] {
        guard !merchants.isEmpty else { return [:] }
        var last: [String: Int64] = [:]
        for row in try await db.query(
            """
            INSERT INTO webhook_sequences (merchant_id, last) SELECT m, 0 FROM (VALUES \((1...merchants.count).map { "($\($0))" }.joined(separator: ", "))) AS v(m)
            ORDER BY m ON CONFLICT (merchant_id) DO UPDATE SET last = webhook_sequences.last RETURNING merchant_id, last
            """, merchants.sorted().map { .text($0) }
        ).rows {
            last[try row.string("merchant_id")] = try row.int64("last")
        }
        return last
    }

    private static func storedEvents(_ ids: [String], in db: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(
            try await db.query(
                "SELECT id FROM webhook_events WHERE id = \(PostgresTextList.any(1))", [PostgresTextList.value(ids)]
            ).rows.map { try $0.string("id") })
    }

    /// One event, its deliveries and its merchant's counter in one statement; false when the
    /// event's id is stored already (a fact: then nothing is stored and no number taken).
    private static func insert(
        _ event: NewWebhookEvent, id: String, sequence: Int64, endpoints: [String], now: Int64, in db: PostgresConnection
    ) async throws -> Bool {
        let deliveries = JSONValue.array(
            endpoints.map { .object(["id": .string(Identifiers.prefixed("whd_", now: now)), "endpoint": .string($0)]) })
        let inserted = try await db.query(
            """
            WITH event AS (
                INSERT INTO webhook_events (id, type, merchant_id, sequence, created_at, body, trace_id, trace_flags, trace_state)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id
            ), deliveries AS (
                INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, attempts, due_at, created_at, updated_at)
                SELECT d.id, d.endpoint, event.id, 'pending', 0, $5, $5, $5 FROM event, jsonb_to_recordset($10) AS d(id text, endpoint text)
            ), counter AS (
                UPDATE webhook_sequences SET last = $4 WHERE merchant_id = $3 AND EXISTS (SELECT 1 FROM event)
            )
            SELECT count(*) AS stored FROM event
            """,
            [
                .text(id), .text(event.type.rawValue), .text(event.merchantId), .int64(sequence), .int64(now),
                .bytes(event.body(id: id, sequence: sequence, at: now)), .nullable(event.trace?.traceId),
                .nullable(event.trace.map { Int64($0.flags) }), .nullable(event.trace?.traceState), .json(deliveries.serialized),
            ])
        return try inserted.rows.first?.int64("stored") == 1
    }
}
