import HTTP
import JSON
import Rokt
import Store

/// SQL over `operations` and `upstream_calls`. Every function runs inside the caller's
/// transaction, so the engine composes them atomically.
enum OperationRecords {
    static let columns = """
        o.id, o.type, o.merchant_id, o.resource, o.state, o.changed, o.attempts, o.created_at, o.updated_at, o.request, o.intent,
        r.body AS result, o.error, o.api_key_id, o.trace_id, o.trace_flags, o.trace_state
        """
    static let from = "operations o LEFT JOIN results r ON r.id = o.result_id"

    /// The JSON of a new operation, encoded before the write so the single writer thread only writes.
    struct Encoded: Sendable {
        let request: String
        let intent: String
        init(_ operation: StoredOperation) {
            request = operation.request.serialized
            intent = json(operation.intent)
        }
    }

    static func insert(_ operation: StoredOperation, encoded: Encoded, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO operations (id, type, merchant_id, resource, state, changed, attempts, created_at, updated_at, request, intent, api_key_id, trace_id, trace_flags, trace_state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                operation.id, operation.type, operation.merchantId, operation.resource, operation.state.rawValue,
                operation.changed.map { $0 ? 1 : 0 }, operation.attempts, operation.createdAt, operation.updatedAt,
                encoded.request, encoded.intent, operation.apiKeyId, operation.trace?.traceId, operation.trace.map { Int($0.flags) },
                operation.trace?.traceState,
            ])
    }

    static func load(_ id: String, in db: SQLiteConnection) throws -> StoredOperation? {
        try db.query("SELECT \(columns) FROM \(from) WHERE o.id = ?", [id]).first.map(decode)
    }

    static func calls(of id: String, in db: SQLiteConnection) throws -> [UpstreamCall] {
        try db.query(
            """
            SELECT c.call FROM operation_calls oc JOIN upstream_calls c ON c.id = oc.call_id WHERE oc.operation_id = ? ORDER BY c.id
            """, [id]
        ).map {
            try JSON.decode(UpstreamCall.self, from: Array(try $0.get(0, as: String.self).utf8))
        }
    }

    static func document(_ id: String, in db: SQLiteConnection) throws -> Operation? {
        guard let stored = try load(id, in: db) else { return nil }
        return stored.document(upstream: try calls(of: id, in: db))
    }

    /// The queued operations of one job, oldest first.
    static func queued(merchantId: String, resource: String, limit: Int, in db: SQLiteConnection) throws -> [StoredOperation] {
        try db.query(
            """
            SELECT \(columns) FROM \(from)
            WHERE o.merchant_id = ? AND o.resource = ? AND o.state = 'queued' ORDER BY o.id LIMIT ?
            """, [merchantId, resource, limit]
        ).map(decode)
    }

    static func load(ids: [String], in db: SQLiteConnection) throws -> [StoredOperation] {
        try ids.compactMap { try load($0, in: db) }
    }

    static func markRunning(_ ids: [String], now: Int64, in db: SQLiteConnection) throws {
        for id in ids {
            try db.run(
                "UPDATE operations SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state IN ('queued', 'running')",
                [now, id])
        }
    }

    static func countAttempt(_ ids: [String], now: Int64, in db: SQLiteConnection) throws {
        for id in ids {
            try db.run("UPDATE operations SET attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'running'", [now, id])
        }
    }

    /// Puts operations back in line (a pending write was abandoned: they will be merged afresh).
    static func requeue(_ ids: [String], now: Int64, in db: SQLiteConnection) throws {
        for id in ids {
            try db.run("UPDATE operations SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'running'", [now, id])
        }
    }

    /// Stores a result document once, for every operation that ends with it.
    static func insertResult(_ body: String, in db: SQLiteConnection) throws -> Int64 {
        try db.run("INSERT INTO results (body) VALUES (?)", [body])
        return db.lastInsertRowId
    }

    /// Ends an operation; a terminal state is never overwritten (answers whether this call
    /// ended it). `error` is pre-encoded JSON.
    @discardableResult
    static func finish(
        _ id: String, succeeded: Bool, changed: Bool?, resultId: Int64?, error: String?, now: Int64,
        in db: SQLiteConnection
    ) throws -> Bool {
        try db.run(
            """
            UPDATE operations SET state = ?, changed = ?, result_id = ?, error = ?, updated_at = ?
            WHERE id = ? AND state IN ('queued', 'running')
            """, [succeeded ? "succeeded" : "failed", changed.map { $0 ? 1 : 0 }, resultId, error, now, id]) > 0
    }

    /// A privacy request keeps raw consumer identifiers only while it may have to be re-sent:
    /// in its ending's transaction the intent becomes `redacted` (the values' SHA-256) and the
    /// pending write (the only other copy) goes. Freed bytes are zeroed (`secure_delete`) and
    /// the WAL is truncated after the commit, so the raw values leave the files too.
    static func redactPrivacyRequest(_ id: String, redacted: String, in db: SQLiteConnection) throws {
        guard let row = try db.queryOne("SELECT merchant_id, resource FROM operations WHERE id = ?", [id]) else { return }
        _ = try db.query("PRAGMA secure_delete = ON")
        try db.run("UPDATE operations SET intent = ? WHERE id = ?", [redacted, id])
        try db.run(
            "DELETE FROM pending_writes WHERE merchant_id = ? AND resource = ? AND operation_ids = ?",
            [try row.get(0, as: String.self), try row.get(1, as: String.self), json([id])])
        db.afterCommit { [path = db.path] in WALCheckpoint.truncateSoon(path: path) }
    }

    /// Work that arrived while a job ran: a queued operation of that job.
    static func hasQueued(merchantId: String, resource: String, in db: SQLiteConnection) throws -> Bool {
        try db.queryOne(
            "SELECT 1 FROM operations WHERE merchant_id = ? AND resource = ? AND state = 'queued' LIMIT 1",
            [merchantId, resource]) != nil
    }

    /// Unfinished operations of one job created at or before `cutoff`.
    static func unfinished(merchantId: String, resource: String, createdAtOrBefore cutoff: Int64, in db: SQLiteConnection) throws -> [StoredOperation] {
        try db.query(
            """
            SELECT \(columns) FROM \(from)
            WHERE o.merchant_id = ? AND o.resource = ? AND o.state IN ('queued', 'running') AND o.created_at <= ? ORDER BY o.id
            """, [merchantId, resource, cutoff]
        ).map(decode)
    }

    static func setMerchant(_ merchantId: String, of operationId: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE operations SET merchant_id = ? WHERE id = ?", [merchantId, operationId])
    }

    /// The trace a job's run works in: its oldest unfinished operation's.
    static func trace(merchantId: String, resource: String, in db: SQLiteConnection) throws -> TraceRecord? {
        try db.queryOne(
            """
            SELECT trace_id, trace_flags, trace_state FROM operations
            WHERE merchant_id = ? AND resource = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1
            """, [merchantId, resource]
        ).flatMap(trace)
    }

    /// The `trace_id`, `trace_flags` and `trace_state` columns of a row (operations, webhook events).
    static func trace(_ row: Row) throws -> TraceRecord? {
        guard let traceId = try row.get("trace_id", as: String?.self) else { return nil }
        return TraceRecord(
            traceId: traceId, flags: UInt8(truncatingIfNeeded: try row.get("trace_flags", as: Int64?.self) ?? 0),
            traceState: try row.get("trace_state", as: String?.self))
    }

    /// Logs one upstream call for the operations it served (pre-encoded by the caller).
    static func appendCall(_ call: String, to ids: [String], in db: SQLiteConnection) throws {
        try db.run("INSERT INTO upstream_calls (call) VALUES (?)", [call])
        let callId = db.lastInsertRowId
        for id in ids { try db.run("INSERT OR IGNORE INTO operation_calls (operation_id, call_id) VALUES (?, ?)", [id, callId]) }
    }

    /// A page of operations, newest first, after the cursor `after` (an operation id).
    static func list(_ query: OperationQuery, in db: SQLiteConnection) throws -> [StoredOperation] {
        let (merchantIds, merchantId, state, limit, after) = (query.merchantIds, query.merchantId, query.state, query.limit, query.after)
        var conditions: [String] = []
        var bindings: [any SQLiteValueConvertible] = []
        if let merchantId { conditions.append("o.merchant_id = ?"); bindings.append(merchantId) }
        if let merchantIds {
            guard !merchantIds.isEmpty else { return [] }
            conditions.append("o.merchant_id IN (\(merchantIds.map { _ in "?" }.joined(separator: ",")))")
            bindings.append(contentsOf: merchantIds.sorted().map { $0 as any SQLiteValueConvertible })
        }
        if let state { conditions.append("o.state = ?"); bindings.append(state.rawValue) }
        if let after { conditions.append("o.id < ?"); bindings.append(after) }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        bindings.append(limit)
        return try db.query("SELECT \(columns) FROM \(from) \(whereClause) ORDER BY o.id DESC LIMIT ?", bindings).map(decode)
    }

    private static func decode(_ row: Row) throws -> StoredOperation {
        StoredOperation(
            id: try row.get("id"), type: try row.get("type"), merchantId: try row.get("merchant_id"),
            resource: try row.get("resource"),
            state: OperationState(rawValue: try row.get("state", as: String.self)) ?? .failed,
            changed: try row.get("changed", as: Int64?.self).map { $0 != 0 },
            attempts: try row.get("attempts"), createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"),
            request: try JSON.decode(JSONValue.self, from: Array(try row.get("request", as: String.self).utf8)),
            intent: try JSON.decode(OperationIntent.self, from: Array(try row.get("intent", as: String.self).utf8)),
            result: try row.get("result", as: String?.self).map { try JSON.decode(JSONValue.self, from: Array($0.utf8)) },
            error: try row.get("error", as: String?.self).map { try JSON.decode(Problem.self, from: Array($0.utf8)) },
            apiKeyId: try row.get("api_key_id", as: String?.self), trace: try trace(row))
    }

    static func json<T: Encodable>(_ value: T) -> String { String(decoding: JSON.encode(value), as: UTF8.self) }
}
