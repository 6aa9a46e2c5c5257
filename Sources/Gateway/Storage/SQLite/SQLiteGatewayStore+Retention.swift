/// `RetentionStore`: the sweep's batches, the incremental vacuum and the WAL truncation.
extension SQLiteGatewayStore {
    func purgeInboundRequests(before cutoff: Int64, limit: Int) async throws -> Int {
        try await database.write { db in try RetentionRecords.purgeInboundRequests(before: cutoff, limit: limit, in: db) }
    }

    func purgeOperations(endedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await database.write { db in try RetentionRecords.purgeOperations(endedBefore: cutoff, limit: limit, in: db) }
    }

    func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await database.write { db in try RetentionRecords.purgeWebhookDeliveries(endedBefore: cutoff, limit: limit, in: db) }
    }

    func purgeWebhookEvents(before cutoff: Int64, limit: Int) async throws -> Int {
        try await database.write { db in try RetentionRecords.purgeWebhookEvents(before: cutoff, limit: limit, in: db) }
    }

    func purgeIdleJobs(limit: Int) async throws -> Int {
        try await database.write { db in try RetentionRecords.purgeIdleJobs(limit: limit, in: db) }
    }

    func reclaimFreeSpace(pages: Int) async throws -> (before: Int, after: Int) {
        try await database.write { db in
            let before = try RetentionRecords.freePages(in: db)
            if before > 0 { try RetentionRecords.reclaim(pages: pages, in: db) }
            return (before, try RetentionRecords.freePages(in: db))
        }
    }

    /// The WAL frames of the deleted rows go too (after the vacuum, so its frames do as well).
    func compact() { WALCheckpoint.truncateSoon(path: database.path) }
}
