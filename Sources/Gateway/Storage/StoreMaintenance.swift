/// The retention sweep's deletions. Each call deletes at most `limit` rows in one short
/// transaction and answers how many went, so the sweep yields between batches.
///
/// What a backend must guarantee: nothing unfinished is purged (a queued or running operation,
/// a delivery still due or leased, a job with work due, a lease or a pending write), and nothing
/// still referenced (a result or call another operation keeps, an event a delivery keeps).
protocol RetentionStore: Sendable {
    /// Inbound Idempotency-Key records created before `cutoff`.
    func purgeInboundRequests(before cutoff: Int64, limit: Int) async throws -> Int
    /// Operations that ended before `cutoff`, with their call log and the results and calls no
    /// remaining operation refers to.
    func purgeOperations(endedBefore cutoff: Int64, limit: Int) async throws -> Int
    /// Deliveries that ended (delivered or given up) before `cutoff`, with their attempts.
    func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int) async throws -> Int
    /// Events older than `cutoff` that no delivery refers to any more.
    func purgeWebhookEvents(before cutoff: Int64, limit: Int) async throws -> Int
    /// Jobs with nothing due, no lease and no write in flight.
    func purgeIdleJobs(limit: Int) async throws -> Int
    /// Gives up to `pages` units of freed space back to the file system; answers the free units
    /// before and after (a backend without such a notion answers zeros).
    func reclaimFreeSpace(pages: Int) async throws -> (before: Int, after: Int)
    /// After a sweep: lets the deleted bytes leave the disk (SQLite: truncates the WAL).
    func compact()
}

/// What `/readyz` and `/metrics` read.
///
/// What a backend must guarantee: `gauges` is cheap (maintained counters and indexed counts,
/// never a scan over operations); `ping` fails when the store cannot answer a read.
protocol StoreHealth: Sendable {
    func ping() async throws
    func gauges() async throws -> StoreGauges
}

/// What `/metrics` and `/readyz` read from the store.
struct StoreGauges: Sendable, Equatable {
    var operationsByState: [String: Int]
    /// Jobs with work due: queued behind the scheduler or waiting out a backoff.
    var queuedJobs: Int
    /// Webhook deliveries still to attempt (a disabled endpoint's stay counted).
    var pendingWebhookDeliveries: Int = 0
    var disabledWebhookEndpoints: Int = 0
}
