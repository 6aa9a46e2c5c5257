import Postgres

/// `RetentionStore`: the sweep's batches, each one short transaction.
extension PostgresGatewayStore {
    func purgeInboundRequests(before cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { db, _ in try await PostgresRetentionRecords.purgeInboundRequests(before: cutoff, limit: limit, in: db) }
    }

    func purgeOperations(endedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { db, _ in try await PostgresRetentionRecords.purgeOperations(endedBefore: cutoff, limit: limit, in: db) }
    }

    func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { db, _ in try await PostgresRetentionRecords.purgeWebhookDeliveries(endedBefore: cutoff, limit: limit, in: db) }
    }

    func purgeWebhookEvents(before cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { db, _ in try await PostgresRetentionRecords.purgeWebhookEvents(before: cutoff, limit: limit, in: db) }
    }

    func purgeIdleJobs(limit: Int) async throws -> Int {
        try await transaction { db, _ in try await PostgresRetentionRecords.purgeIdleJobs(limit: limit, in: db) }
    }

    /// Zeros: PostgreSQL has no free-page list to hand back. Autovacuum makes the deleted rows'
    /// space reusable for new rows; giving it back to the file system takes VACUUM FULL, which
    /// locks the tables out and is an operator's decision, not the sweep's.
    func reclaimFreeSpace(pages: Int) async throws -> (before: Int, after: Int) { (0, 0) }

    /// Nothing: the server's autovacuum and checkpoints clean up after the deleted rows (there is
    /// no WAL of ours to truncate).
    func compact() {}
}
