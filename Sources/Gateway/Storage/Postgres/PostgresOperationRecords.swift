import HTTP
import JSON
import Postgres
import Rokt

/// SQL over `operations`, `results`, `upstream_calls` and `operation_calls` on PostgreSQL.
/// Every function runs inside the caller's transaction (or read), so the store composes them.
enum PostgresOperationRecords {
    static let columns = OperationRecords.columns
    static let from = OperationRecords.from

    /// Inserts the operation unless `unfinishedBelow` operations are unfinished already (read from
    /// the sharded counts without a lock); answers whether it was inserted.
    @discardableResult
    static func insert(
        _ operation: StoredOperation, encoded: OperationRecords.Encoded, unfinishedBelow bound: Int = .max, in db: PostgresConnection
    ) async throws -> Bool {
        let statement = insertStatement(operation, encoded: encoded, unfinishedBelow: bound)
        return inserted(try await db.query(statement.sql, statement.parameters))
    }

    /// The statement of `insert`, for a pipeline; `inserted` reads its result. `refusing`: a full
    /// queue raises `PostgresSchema.Refusal.queueFull` instead of inserting nothing.
    static func insertStatement(
        _ operation: StoredOperation, encoded: OperationRecords.Encoded, unfinishedBelow bound: Int, refusing: Bool = false
    ) -> PostgresStatement {
        let room = "(SELECT COALESCE(SUM(n), 0) FROM operation_counts WHERE state IN ('queued', 'running')) < $16"
        return PostgresStatement(
            """
            INSERT INTO operations (id, type, merchant_id, resource, state, changed, attempts, created_at, updated_at, request, intent, api_key_id, trace_id, trace_flags, trace_state)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
            WHERE \(refusing ? "gateway_require(\(room), '\(PostgresSchema.Refusal.queueFull.code)', 'the queue is full')" : room)
            """,
            [
                .text(operation.id), .text(operation.type), .text(operation.merchantId), .text(operation.resource), .text(operation.state.rawValue),
                .flag(operation.changed), .int(operation.attempts), .int64(operation.createdAt), .int64(operation.updatedAt),
                .text(encoded.request), .text(encoded.intent), .nullable(operation.apiKeyId), .nullable(operation.trace?.traceId),
                .nullable(operation.trace.map { Int64($0.flags) }), .nullable(operation.trace?.traceState), .int(bound),
            ])
    }

    static func inserted(_ result: PostgresQueryResult) -> Bool { result.affected == 1 }

    static func load(_ id: String, in db: PostgresConnection) async throws -> StoredOperation? {
        try await db.query("SELECT \(columns) FROM \(from) WHERE o.id = $1", [.text(id)]).rows.first.map(decode)
    }

    /// The operations with these ids (those that exist), in the order given.
    static func load(ids: [String], in db: PostgresConnection) async throws -> [StoredOperation] {
        guard !ids.isEmpty else { return [] }
        let rows = try await db.query(
            "SELECT \(columns) FROM \(from) WHERE o.id = \(PostgresTextList.any(1))", [PostgresTextList.value(ids)]
        ).rows
        var byId: [String: StoredOperation] = [:]
        for row in rows {
            let operation = try decode(row)
            byId[operation.id] = operation
        }
        return ids.compactMap { byId[$0] }
    }

    static func calls(of id: String, in db: PostgresConnection) async throws -> [UpstreamCall] {
        try await db.query(
            "SELECT c.call FROM operation_calls oc JOIN upstream_calls c ON c.id = oc.call_id WHERE oc.operation_id = $1 ORDER BY c.id", [.text(id)]
        ).rows.map { try JSON.decode(UpstreamCall.self, from: Array(try $0.string("call").utf8)) }
    }

    static func document(_ id: String, in db: PostgresConnection) async throws -> Operation? {
        guard let stored = try await load(id, in: db) else { return nil }
        return stored.document(upstream: try await calls(of: id, in: db))
    }

    static func queued(_ job: ClaimedJobKey, limit: Int, in db: PostgresConnection) async throws -> [StoredOperation] {
        try await db.query(
            "SELECT \(columns) FROM \(from) WHERE o.merchant_id = $1 AND o.resource = $2 AND o.state = 'queued' ORDER BY o.id LIMIT $3",
            [.text(job.merchantId), .text(job.resource), .int(limit)]
        ).rows.map(decode)
    }

    /// Unfinished operations of one job created at or before `cutoff`.
    static func unfinished(_ job: ClaimedJobKey, createdAtOrBefore cutoff: Int64, in db: PostgresConnection) async throws -> [StoredOperation] {
        try await db.query(
            """
            SELECT \(columns) FROM \(from)
            WHERE o.merchant_id = $1 AND o.resource = $2 AND o.state IN ('queued', 'running') AND o.created_at <= $3 ORDER BY o.id
            """, [.text(job.merchantId), .text(job.resource), .int64(cutoff)]
        ).rows.map(decode)
    }

    /// The trace a job's run works in: its oldest unfinished operation's.
    static func trace(_ job: ClaimedJobKey, in db: PostgresConnection) async throws -> TraceRecord? {
        try await db.query(
            """
            SELECT trace_id, trace_flags, trace_state FROM operations
            WHERE merchant_id = $1 AND resource = $2 AND state IN ('queued', 'running') ORDER BY id LIMIT 1
            """, [.text(job.merchantId), .text(job.resource)]
        ).rows.first.flatMap(trace)
    }

    /// The `trace_id`, `trace_flags` and `trace_state` columns of a row (operations, webhook events).
    static func trace(_ row: PostgresRow) throws -> TraceRecord? {
        guard let traceId = try row.optionalString("trace_id") else { return nil }
        return TraceRecord(
            traceId: traceId, flags: UInt8(truncatingIfNeeded: try row.optionalInt64("trace_flags") ?? 0),
            traceState: try row.optionalString("trace_state"))
    }

    /// `UPDATE operations SET <assignments> WHERE id IN (…) AND <condition>` with `now` as $1.
    private static func update(_ ids: [String], set assignments: String, where condition: String, now: Int64, in db: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        _ = try await db.query(
            "UPDATE operations SET \(assignments) WHERE id = \(PostgresTextList.any(2)) AND \(condition)", [.int64(now), PostgresTextList.value(ids)])
    }

    static func markRunning(_ ids: [String], now: Int64, in db: PostgresConnection) async throws {
        try await update(ids, set: "state = 'running', attempts = attempts + 1, updated_at = $1", where: "state IN ('queued', 'running')", now: now, in: db)
    }

    static func countAttempt(_ ids: [String], now: Int64, in db: PostgresConnection) async throws {
        try await update(ids, set: "attempts = attempts + 1, updated_at = $1", where: "state = 'running'", now: now, in: db)
    }

    /// Puts operations back in line (a pending write was abandoned: they will be merged afresh).
    static func requeue(_ ids: [String], now: Int64, in db: PostgresConnection) async throws {
        try await update(ids, set: "state = 'queued', updated_at = $1", where: "state = 'running'", now: now, in: db)
    }

    /// The job an operation belongs to (nil: no such operation).
    static func job(of id: String, in db: PostgresConnection) async throws -> ClaimedJobKey? {
        try await db.query("SELECT merchant_id, resource FROM operations WHERE id = $1", [.text(id)]).rows.first.map {
            ClaimedJobKey(merchantId: try $0.string("merchant_id"), resource: try $0.string("resource"))
        }
    }

    /// Stores a result document once, for every operation that ends with it.
    static func insertResult(_ body: String, in db: PostgresConnection) async throws -> Int64 {
        guard let row = try await db.query("INSERT INTO results (body) VALUES ($1) RETURNING id", [.text(body)]).rows.first else {
            throw StoreInconsistency(description: "INSERT … RETURNING answered no row")
        }
        return try row.int64("id")
    }

    /// Ends operations, in one statement (a round ends dozens: one round trip each was most of a
    /// finish's time); a terminal state is never overwritten. Answers the ids this call ended.
    /// The ids are also given as a list: joined only to the recordset, whose size the planner
    /// does not know, the table was scanned whole (5 ms at 20,000 operations) instead of its index.
    static func finish(_ rows: [EncodedEndings.Row], resultIds: [Int64], now: Int64, in db: PostgresConnection) async throws -> Set<String> {
        var seen = Set<String>()
        let endings: [JSONValue] = rows.filter { seen.insert($0.id).inserted }.map { row in
            .object([
                "id": .string(row.id), "state": .string(row.succeeded ? "succeeded" : "failed"),
                "changed": row.changed.map { .integer($0 ? 1 : 0) } ?? .null,
                "result_id": row.result.map { .integer(Int(resultIds[$0])) } ?? .null,
                "error": row.error.map(JSONValue.string) ?? .null,
            ])
        }
        let ended = try await db.query(
            """
            UPDATE operations o SET state = e.state, changed = e.changed, result_id = e.result_id, error = e.error, updated_at = $1
            FROM jsonb_to_recordset($2) AS e(id TEXT, state TEXT, changed BIGINT, result_id BIGINT, error TEXT)
            WHERE o.id = ANY (ARRAY(SELECT jsonb_array_elements($2) ->> 'id')) AND o.id = e.id AND o.state IN ('queued', 'running')
            RETURNING o.id
            """, [.int64(now), .json(JSONValue.array(endings).serialized)])
        return Set(try ended.rows.map { try $0.string("id") })
    }

    /// A privacy request keeps raw consumer identifiers only while it may have to be re-sent: in
    /// its ending's transaction the intent becomes `redacted` (the values' SHA-256) and the pending
    /// write (the only other copy) goes. (Freed space is PostgreSQL's to reuse; VACUUM reclaims it.)
    static func redactPrivacyRequest(_ id: String, redacted: String, in db: PostgresConnection) async throws {
        guard
            let row = try await db.query("UPDATE operations SET intent = $2 WHERE id = $1 RETURNING merchant_id, resource", [.text(id), .text(redacted)])
                .rows.first
        else { return }
        _ = try await db.query(
            "DELETE FROM pending_writes WHERE merchant_id = $1 AND resource = $2 AND operation_ids = $3",
            [.text(try row.string("merchant_id")), .text(try row.string("resource")), .text(OperationRecords.json([id]))])
    }

    static func setMerchant(_ merchantId: String, of operationId: String, in db: PostgresConnection) async throws {
        _ = try await db.query("UPDATE operations SET merchant_id = $2 WHERE id = $1", [.text(operationId), .text(merchantId)])
    }

    /// Logs one upstream call for the operations it served (pre-encoded by the caller); a missing
    /// operation fails the statement (and so the transaction). One statement: one round trip and
    /// one prepared text whatever the number of operations.
    static func appendCall(_ call: String, to ids: [String], in db: PostgresConnection) async throws {
        _ = try await db.query(
            """
            WITH logged AS (INSERT INTO upstream_calls (call) VALUES ($1) RETURNING id)
            INSERT INTO operation_calls (operation_id, call_id)
            SELECT operation_id, logged.id FROM logged, jsonb_array_elements_text($2) AS operation_id
            ON CONFLICT DO NOTHING
            """, [.text(call), PostgresTextList.value(ids)])
    }

    /// A page of operations, newest first, after the cursor `after` (an operation id).
    static func list(_ query: OperationQuery, in db: PostgresConnection) async throws -> [StoredOperation] {
        var conditions: [String] = []
        var parameters: [PostgresValue] = []
        func bind(_ value: PostgresValue) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let merchantId = query.merchantId { conditions.append("o.merchant_id = \(bind(.text(merchantId)))") }
        if let merchantIds = query.merchantIds {
            guard !merchantIds.isEmpty else { return [] }
            conditions.append("o.merchant_id IN (\(merchantIds.sorted().map { bind(.text($0)) }.joined(separator: ", ")))")
        }
        if let state = query.state { conditions.append("o.state = \(bind(.text(state.rawValue)))") }
        if let after = query.after { conditions.append("o.id < \(bind(.text(after)))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = bind(.int(query.limit))
        return try await db.query("SELECT \(columns) FROM \(from) \(whereClause) ORDER BY o.id DESC LIMIT \(limit)", parameters).rows.map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> StoredOperation {
        StoredOperation(
            id: try row.string("id"), type: try row.string("type"), merchantId: try row.string("merchant_id"),
            resource: try row.string("resource"), state: OperationState(rawValue: try row.string("state")) ?? .failed,
            changed: try row.optionalInt64("changed").map { $0 != 0 }, attempts: try row.int("attempts"),
            createdAt: try row.int64("created_at"), updatedAt: try row.int64("updated_at"),
            request: try JSON.decode(JSONValue.self, from: Array(try row.string("request").utf8)),
            intent: try JSON.decode(OperationIntent.self, from: Array(try row.string("intent").utf8)),
            result: try row.optionalString("result").map { try JSON.decode(JSONValue.self, from: Array($0.utf8)) },
            error: try row.optionalString("error").map { try JSON.decode(Problem.self, from: Array($0.utf8)) },
            apiKeyId: try row.optionalString("api_key_id"), trace: try trace(row))
    }
}

/// SQL over `merchants` on PostgreSQL: which operation registers which externalAccountId.
enum PostgresMerchantRecords {
    /// Binds `externalAccountId` to the new registering operation, unless a live operation (not
    /// failed) registers it: then answers that one's id and changes nothing. The unique key
    /// decides between concurrent registers (an insert waits for the other's commit); an existing
    /// row is locked before its operation is read, so that read sees the other's commit.
    static func bind(externalAccountId: String, operationId: String, name: String, now: Int64, in db: PostgresConnection) async throws -> String? {
        let inserted = try await db.query(
            """
            INSERT INTO merchants (external_account_id, operation_id, name, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (external_account_id) DO NOTHING
            """, [.text(externalAccountId), .text(operationId), .text(name), .int64(now)])
        if inserted.affected == 1 { return nil }
        let locked = try await db.query("SELECT operation_id FROM merchants WHERE external_account_id = $1 FOR UPDATE", [.text(externalAccountId)])
        if let existing = try locked.rows.first?.string("operation_id"),
            try await !db.query("SELECT 1 FROM operations WHERE id = $1 AND state != 'failed'", [.text(existing)]).rows.isEmpty
        {
            return existing
        }
        _ = try await db.query(
            """
            INSERT INTO merchants (external_account_id, operation_id, name, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (external_account_id) DO UPDATE SET operation_id = excluded.operation_id, name = excluded.name,
                account_id = NULL, created_at = excluded.created_at
            """, [.text(externalAccountId), .text(operationId), .text(name), .int64(now)])
        return nil
    }

    static func setAccount(_ accountId: String, externalAccountId: String, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE merchants SET account_id = $2 WHERE external_account_id = $1", [.text(externalAccountId), .text(accountId)])
    }
}
