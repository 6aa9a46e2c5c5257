import Postgres

extension PostgresGatewayStore {
    func gauges() async throws -> StoreGauges {
        try await read { db in try await PostgresGaugeRecords.read(in: db) }
    }
}

/// The gauges on PostgreSQL, as on SQLite: operations by state from the counters the triggers
/// keep (`operation_counts`, summed over its shards), and counts over small indexed sets (jobs
/// due, deliveries pending, both through their partial `due_at` indexes; endpoints disabled,
/// a table of a few rows). One statement: one snapshot.
enum PostgresGaugeRecords {
    static func read(in db: PostgresConnection) async throws -> StoreGauges {
        let rows = try await db.query(
            """
            SELECT state, sum(n)::bigint AS n,
                   (SELECT count(*) FROM jobs WHERE due_at IS NOT NULL) AS queued_jobs,
                   (SELECT count(*) FROM webhook_deliveries WHERE due_at IS NOT NULL) AS pending_deliveries,
                   (SELECT count(*) FROM webhook_endpoints WHERE disabled_at IS NOT NULL) AS disabled_endpoints
            FROM operation_counts GROUP BY state
            """
        ).rows
        var byState: [String: Int] = [:]
        for row in rows { byState[try row.string("state")] = try row.int("n") }
        guard let first = rows.first else { throw StoreInconsistency(description: "operation_counts has no rows") }
        return StoreGauges(
            operationsByState: byState, queuedJobs: try first.int("queued_jobs"),
            pendingWebhookDeliveries: try first.int("pending_deliveries"), disabledWebhookEndpoints: try first.int("disabled_endpoints"))
    }
}
