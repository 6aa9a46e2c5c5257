import Store

/// The gauges from counters kept with every change, and aggregate queries over small indexed
/// sets (jobs due, deliveries pending, endpoints disabled).
enum GaugeRecords {
    /// Four rows kept by triggers (migration 4), never a count over `operations`.
    static let operationCountsQuery = "SELECT state, n FROM operation_counts"

    /// Operations not yet ended (queued or running): what the engine's queue bound limits.
    static func unfinishedOperations(in db: SQLiteConnection) throws -> Int {
        try db.queryOne("SELECT COALESCE(SUM(n), 0) FROM operation_counts WHERE state IN ('queued', 'running')")?.get(0, as: Int.self) ?? 0
    }

    static func read(in db: SQLiteConnection) throws -> StoreGauges {
        var byState: [String: Int] = [:]
        for row in try db.query(operationCountsQuery) {
            byState[try row.get(0, as: String.self)] = try row.get(1, as: Int.self)
        }
        let queued = try db.queryOne("SELECT COUNT(*) FROM jobs WHERE due_at IS NOT NULL").map { try $0.get(0, as: Int.self) } ?? 0
        let pending = try db.queryOne("SELECT COUNT(*) FROM webhook_deliveries WHERE due_at IS NOT NULL").map { try $0.get(0, as: Int.self) } ?? 0
        let disabled = try db.queryOne("SELECT COUNT(*) FROM webhook_endpoints WHERE disabled_at IS NOT NULL").map { try $0.get(0, as: Int.self) } ?? 0
        return StoreGauges(operationsByState: byState, queuedJobs: queued, pendingWebhookDeliveries: pending, disabledWebhookEndpoints: disabled)
    }
}
