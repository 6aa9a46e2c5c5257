import Store

/// What `/metrics` and `/readyz` read from the store: cheap aggregate queries over indexed columns.
struct StoreGauges: Sendable {
    var operationsByState: [String: Int]
    /// Jobs with work due (`due_at` set): queued behind the scheduler or waiting out a backoff.
    var queuedJobs: Int

    static func read(in db: SQLiteConnection) throws -> StoreGauges {
        var byState: [String: Int] = [:]
        for row in try db.query("SELECT state, COUNT(*) FROM operations GROUP BY state") {
            byState[try row.get(0, as: String.self)] = try row.get(1, as: Int.self)
        }
        let queued = try db.queryOne("SELECT COUNT(*) FROM jobs WHERE due_at IS NOT NULL").map { try $0.get(0, as: Int.self) } ?? 0
        return StoreGauges(operationsByState: byState, queuedJobs: queued)
    }
}
