import Postgres

/// SQL of the retention sweep on PostgreSQL. Each function deletes at most `limit` rows in the
/// caller's (short) transaction and answers how many went.
///
/// A batch is picked by `ctid` in a subquery with a LIMIT (no row lock in it, so the LIMIT
/// holds), and the DELETE repeats the conditions: a row changed by another transaction since
/// the pick (re-queued, leased, referenced again) is re-checked on its latest version and kept.
enum PostgresRetentionRecords {
    /// Inbound Idempotency-Key records created before `cutoff`.
    static func purgeInboundRequests(before cutoff: Int64, limit: Int, in db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            DELETE FROM inbound_requests WHERE ctid IN (
                SELECT ctid FROM inbound_requests WHERE created_at < $1 ORDER BY created_at LIMIT $2)
              AND created_at < $1
            """, [.int64(cutoff), .int64(Int64(limit))]
        ).affected
    }

    /// Operations that ended before `cutoff`, with their call log (`operation_calls` cascade) and
    /// the calls and results no remaining operation refers to (a merged write shares them).
    ///
    /// Three statements: the cascade runs at the end of the first, and the later ones must see
    /// it to tell which shared rows lost their last reference.
    static func purgeOperations(endedBefore cutoff: Int64, limit: Int, in db: PostgresConnection) async throws -> Int {
        let gone = try await db.query(
            """
            WITH gone AS (
                DELETE FROM operations WHERE ctid IN (
                    SELECT ctid FROM operations WHERE state IN ('succeeded', 'failed') AND updated_at < $1 ORDER BY updated_at LIMIT $2)
                  AND state IN ('succeeded', 'failed') AND updated_at < $1
                RETURNING id, result_id
            )
            SELECT (SELECT count(*) FROM gone) AS operations,
                   (SELECT jsonb_agg(DISTINCT result_id) FROM gone WHERE result_id IS NOT NULL) AS results,
                   (SELECT jsonb_agg(DISTINCT c.call_id) FROM operation_calls c JOIN gone ON gone.id = c.operation_id) AS calls
            """, [.int64(cutoff), .int64(Int64(limit))]
        ).rows.first
        guard let gone, try gone.int64("operations") > 0 else { return 0 }
        if let calls = try gone.optionalString("calls") {
            _ = try await db.query(
                """
                DELETE FROM upstream_calls u WHERE u.id IN (SELECT value::bigint FROM jsonb_array_elements_text($1))
                  AND NOT EXISTS (SELECT 1 FROM operation_calls c WHERE c.call_id = u.id)
                """, [.json(calls)])
        }
        if let results = try gone.optionalString("results") {
            _ = try await db.query(
                """
                DELETE FROM results r WHERE r.id IN (SELECT value::bigint FROM jsonb_array_elements_text($1))
                  AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.result_id = r.id)
                """, [.json(results)])
        }
        return Int(try gone.int64("operations"))
    }

    /// Deliveries that ended (delivered or given up: no due time, no lease) before `cutoff`, with
    /// their attempts (cascade).
    static func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int, in db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            DELETE FROM webhook_deliveries WHERE ctid IN (
                SELECT ctid FROM webhook_deliveries WHERE due_at IS NULL AND lease_owner IS NULL AND updated_at < $1 ORDER BY updated_at LIMIT $2)
              AND due_at IS NULL AND lease_owner IS NULL AND updated_at < $1
            """, [.int64(cutoff), .int64(Int64(limit))]
        ).affected
    }

    /// Events older than `cutoff` that no delivery refers to any more.
    static func purgeWebhookEvents(before cutoff: Int64, limit: Int, in db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            DELETE FROM webhook_events e WHERE e.ctid IN (
                SELECT v.ctid FROM webhook_events v
                WHERE v.created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = v.id)
                ORDER BY v.created_at LIMIT $2)
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
            """, [.int64(cutoff), .int64(Int64(limit))]
        ).affected
    }

    /// Job rows with nothing due, no lease and no write in flight: submitting work recreates one.
    static func purgeIdleJobs(limit: Int, in db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            DELETE FROM jobs j WHERE j.ctid IN (
                SELECT i.ctid FROM jobs i WHERE i.due_at IS NULL AND i.lease_owner IS NULL
                  AND NOT EXISTS (SELECT 1 FROM pending_writes p WHERE p.merchant_id = i.merchant_id AND p.resource = i.resource)
                LIMIT $1)
              AND j.due_at IS NULL AND j.lease_owner IS NULL
              AND NOT EXISTS (SELECT 1 FROM pending_writes p WHERE p.merchant_id = j.merchant_id AND p.resource = j.resource)
            """, [.int64(Int64(limit))]
        ).affected
    }
}
