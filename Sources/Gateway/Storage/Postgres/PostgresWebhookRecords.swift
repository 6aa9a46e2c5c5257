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
    /// the other; a number is taken only once its event is stored (a fact another transaction
    /// stored meanwhile takes none).
    @discardableResult
    static func record(
        _ events: [NewWebhookEvent], now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices
    ) async throws -> [String?] {
        guard !events.isEmpty else { return [] }
        let endpoints = try await db.query(
            "SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id FOR KEY SHARE"
        ).rows.map { row in (id: try row.string("id"), events: try row.optionalString("events").map(WebhookRecords.decodeEvents)) }
        let wanted = events.map { event in endpoints.filter { $0.events?.contains(event.type) ?? true }.map(\.id) }
        let merchants = Set(zip(events, wanted).filter { !$0.1.isEmpty }.map(\.0.merchantId))
        var last: [String: Int64] = [:]
        if !merchants.isEmpty {
            let values = (1...merchants.count).map { "($\($0))" }.joined(separator: ", ")
            for row in try await db.query(
                """
                INSERT INTO webhook_sequences (merchant_id, last) SELECT m, 0 FROM (VALUES \(values)) AS v(m) ORDER BY m
                ON CONFLICT (merchant_id) DO UPDATE SET last = webhook_sequences.last RETURNING merchant_id, last
                """, merchants.sorted().map { .text($0) }
            ).rows {
                last[try row.string("merchant_id")] = try row.int64("last")
            }
        }
        let factIds = events.compactMap(\.factId)
        var storedFacts: Set<String> = []
        if !factIds.isEmpty {
            storedFacts = Set(
                try await db.query(
                    "SELECT id FROM webhook_events WHERE id IN (\(PostgresPlaceholders.list(count: factIds.count, from: 1)))",
                    factIds.map { .text($0) }
                ).rows.map { try $0.string("id") })
        }
        var ids: [String?] = []
        var numbered: [String: Int64] = [:]
        for (event, endpoints) in zip(events, wanted) {
            if let factId = event.factId, storedFacts.contains(factId) {
                ids.append(factId)
                continue
            }
            guard !endpoints.isEmpty, let previous = last[event.merchantId] else {
                ids.append(nil)
                continue
            }
            let id = event.factId ?? Identifiers.prefixed("evt_", now: now)
            if try await insert(event, id: id, sequence: previous + 1, endpoints: endpoints, now: now, in: db) {
                last[event.merchantId] = previous + 1
                numbered[event.merchantId] = previous + 1
            }
            if let factId = event.factId { storedFacts.insert(factId) }
            ids.append(id)
        }
        guard !numbered.isEmpty else { return ids }
        let counters = JSONValue.array(numbered.map { .object(["merchant": .string($0.key), "last": .number(Double($0.value))]) })
        _ = try await db.query(
            """
            UPDATE webhook_sequences s SET last = v.last FROM jsonb_to_recordset($1) AS v(merchant text, last bigint)
            WHERE s.merchant_id = v.merchant
            """, [.json(counters.serialized)])
        // Dispatchers of every replica look once this transaction has committed.
        notices.append(.deliveriesDue)
        return ids
    }

    /// One event and its deliveries in one statement; false when the event's id is stored already
    /// (a fact recorded by a concurrent transaction: nothing is stored then).
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
