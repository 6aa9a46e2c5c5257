import Store

/// SQL of the retention sweep. Each function deletes at most `limit` rows (one short write
/// transaction) and answers how many went, so the sweep can yield between batches and the
/// group-commit writer is never held long. Every candidate is found through an index.
enum RetentionRecords {
    /// Inbound Idempotency-Key records created before `cutoff`.
    static func purgeInboundRequests(before cutoff: Int64, limit: Int, in db: SQLiteConnection) throws -> Int {
        try db.run(
            """
            DELETE FROM inbound_requests WHERE (api_key_id, idempotency_key) IN (
                SELECT api_key_id, idempotency_key FROM inbound_requests INDEXED BY inbound_requests_by_age
                WHERE created_at < ? ORDER BY created_at LIMIT ?)
            """, [cutoff, limit])
    }

    /// Operations that ended before `cutoff`, with their call log (`operation_calls` cascade) and
    /// the calls and results no remaining operation refers to (a merged write shares them).
    static func purgeOperations(endedBefore cutoff: Int64, limit: Int, in db: SQLiteConnection) throws -> Int {
        let ids = try db.query(
            """
            SELECT id FROM operations INDEXED BY operations_finished_by_age
            WHERE state IN ('succeeded', 'failed') AND updated_at < ? ORDER BY updated_at LIMIT ?
            """, [cutoff, limit]
        ).map { try $0.get(0, as: String.self) }
        guard !ids.isEmpty else { return 0 }
        var callIds: Set<Int64> = []
        var resultIds: Set<Int64> = []
        for id in ids {
            for row in try db.query("SELECT call_id FROM operation_calls WHERE operation_id = ?", [id]) { callIds.insert(try row.get(0)) }
            if let result = try db.queryOne("SELECT result_id FROM operations WHERE id = ?", [id])?.get(0, as: Int64?.self) {
                resultIds.insert(result)
            }
            try db.run("DELETE FROM operations WHERE id = ?", [id])
        }
        for callId in callIds {
            try db.run("DELETE FROM upstream_calls WHERE id = ? AND NOT EXISTS (SELECT 1 FROM operation_calls WHERE call_id = ?)", [callId, callId])
        }
        for resultId in resultIds {
            try db.run("DELETE FROM results WHERE id = ? AND NOT EXISTS (SELECT 1 FROM operations WHERE result_id = ?)", [resultId, resultId])
        }
        return ids.count
    }

    /// Deliveries that ended (delivered or given up: no due time, no lease) before `cutoff`, with
    /// their attempts (cascade).
    static func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int, in db: SQLiteConnection) throws -> Int {
        try db.run(
            """
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_finished_by_age
                WHERE due_at IS NULL AND updated_at < ? AND lease_owner IS NULL ORDER BY updated_at LIMIT ?)
            """, [cutoff, limit])
    }

    /// Events older than `cutoff` that no delivery refers to any more.
    static func purgeWebhookEvents(before cutoff: Int64, limit: Int, in db: SQLiteConnection) throws -> Int {
        try db.run(
            """
            DELETE FROM webhook_events WHERE id IN (
                SELECT e.id FROM webhook_events e INDEXED BY webhook_events_by_age
                WHERE e.created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                ORDER BY e.created_at LIMIT ?)
            """, [cutoff, limit])
    }

    /// Job rows with nothing due, no lease and no write in flight: `markDue` recreates one when
    /// work arrives.
    static func purgeIdleJobs(limit: Int, in db: SQLiteConnection) throws -> Int {
        try db.run(
            """
            DELETE FROM jobs WHERE (merchant_id, resource) IN (
                SELECT j.merchant_id, j.resource FROM jobs j
                WHERE j.due_at IS NULL AND j.lease_owner IS NULL
                  AND NOT EXISTS (SELECT 1 FROM pending_writes p WHERE p.merchant_id = j.merchant_id AND p.resource = j.resource)
                LIMIT ?)
            """, [limit])
    }

    /// Gives up to `pages` free pages back to the file system (the file uses incremental auto-vacuum).
    static func reclaim(pages: Int, in db: SQLiteConnection) throws {
        _ = try db.query("PRAGMA incremental_vacuum(\(max(0, pages)))")
    }

    static func freePages(in db: SQLiteConnection) throws -> Int {
        try db.queryOne("PRAGMA freelist_count")?.get(0, as: Int.self) ?? 0
    }
}
