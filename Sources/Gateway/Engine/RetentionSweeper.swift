import Synchronization

/// How long the gateway keeps what it no longer needs, and how the sweep paces itself.
public struct RetentionConfiguration: Sendable {
    /// Inbound Idempotency-Key records (the documented replay window).
    public var idempotency: Duration = .seconds(24 * 3600)
    /// Ended operations with their call logs and results (OPERATIONS_RETENTION).
    public var operations: Duration = .seconds(30 * 86_400)
    /// Ended webhook deliveries with their attempts, and the events they carried (WEBHOOK_RETENTION).
    public var webhooks: Duration = .seconds(30 * 86_400)
    /// Time between sweeps (the first runs shortly after start).
    public var interval: Duration = .seconds(3600)
    public var firstSweepDelay: Duration = .seconds(60)
    /// Rows deleted per write transaction: the group-commit writer is never held long.
    public var batchSize = 500
    /// Free pages handed back to the file system per write transaction.
    public var vacuumPagesPerBatch = 1000

    public init() {}
}

/// What one sweep removed.
public struct RetentionReport: Sendable, Equatable {
    public var inboundRequests = 0
    public var operations = 0
    public var webhookDeliveries = 0
    public var webhookEvents = 0
    public var jobs = 0
    public var pagesReclaimed = 0
}

/// Deletes what is past its retention window, in small batches off the request path, then
/// returns the freed space to the file system and lets the deleted bytes leave the disk.
public final class RetentionSweeper: Sendable {
    let store: any RetentionStore
    let clock: any WallClock
    let configuration: RetentionConfiguration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(store: any RetentionStore, clock: any WallClock, configuration: RetentionConfiguration) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
    }

    /// Sweeps on the interval; `onSweep` hears what each sweep removed (metrics).
    public func start(
        onSweep: @escaping @Sendable (RetentionReport) -> Void = { _ in }, onError: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        let configuration = configuration
        let loop = Task { [self] in
            try? await Task.sleep(for: configuration.firstSweepDelay)
            while !Task.isCancelled {
                do { onSweep(try await sweep()) } catch { if !Task.isCancelled { onError(error) } }
                try? await Task.sleep(for: configuration.interval)
            }
        }
        task.withLock { $0 = loop }
    }

    public func stop() async {
        let loop = task.withLock { task in
            defer { task = nil }; return task
        }
        loop?.cancel()
        await loop?.value
    }

    /// One pass over every table with a retention window.
    @discardableResult
    public func sweep() async throws -> RetentionReport {
        let now = clock.nowMillis()
        let limit = configuration.batchSize
        var report = RetentionReport()
        let inboundCutoff = now - configuration.idempotency.milliseconds
        report.inboundRequests = try await drain { [store] in try await store.purgeInboundRequests(before: inboundCutoff, limit: limit) }
        let operationsCutoff = now - configuration.operations.milliseconds
        report.operations = try await drain { [store] in try await store.purgeOperations(endedBefore: operationsCutoff, limit: limit) }
        let webhooksCutoff = now - configuration.webhooks.milliseconds
        report.webhookDeliveries = try await drain { [store] in try await store.purgeWebhookDeliveries(endedBefore: webhooksCutoff, limit: limit) }
        report.webhookEvents = try await drain { [store] in try await store.purgeWebhookEvents(before: webhooksCutoff, limit: limit) }
        report.jobs = try await drain { [store] in try await store.purgeIdleJobs(limit: limit) }
        report.pagesReclaimed = try await reclaim()
        store.compact()
        return report
    }

    /// Runs `batch` until it deletes fewer than a full batch, yielding between transactions.
    private func drain(_ batch: () async throws -> Int) async throws -> Int {
        var total = 0
        while !Task.isCancelled {
            let deleted = try await batch()
            total += deleted
            if deleted < configuration.batchSize { break }
            await Task.yield()
        }
        return total
    }

    private func reclaim() async throws -> Int {
        let pages = configuration.vacuumPagesPerBatch
        var reclaimed = 0
        while !Task.isCancelled {
            let (before, after) = try await store.reclaimFreeSpace(pages: pages)
            reclaimed += before - after
            if after == 0 || after >= before { break }
            await Task.yield()
        }
        return reclaimed
    }
}
