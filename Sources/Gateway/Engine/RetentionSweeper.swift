import Dispatch
import Store
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
/// returns the freed pages to the file system and truncates the WAL.
public final class RetentionSweeper: Sendable {
    let database: Database
    let clock: any WallClock
    let configuration: RetentionConfiguration
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(database: Database, clock: any WallClock, configuration: RetentionConfiguration) {
        self.database = database
        self.clock = clock
        self.configuration = configuration
    }

    public func start(onError: @escaping @Sendable (any Error) -> Void = { _ in }) {
        let configuration = configuration
        let loop = Task { [self] in
            try? await Task.sleep(for: configuration.firstSweepDelay)
            while !Task.isCancelled {
                do { _ = try await sweep() } catch { if !Task.isCancelled { onError(error) } }
                try? await Task.sleep(for: configuration.interval)
            }
        }
        task.withLock { $0 = loop }
    }

    public func stop() async {
        let loop = task.withLock { task in defer { task = nil }; return task }
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
        report.inboundRequests = try await drain { try RetentionRecords.purgeInboundRequests(before: inboundCutoff, limit: limit, in: $0) }
        let operationsCutoff = now - configuration.operations.milliseconds
        report.operations = try await drain { try RetentionRecords.purgeOperations(endedBefore: operationsCutoff, limit: limit, in: $0) }
        let webhooksCutoff = now - configuration.webhooks.milliseconds
        report.webhookDeliveries = try await drain {
            try RetentionRecords.purgeWebhookDeliveries(endedBefore: webhooksCutoff, limit: limit, in: $0)
        }
        report.webhookEvents = try await drain { try RetentionRecords.purgeWebhookEvents(before: webhooksCutoff, limit: limit, in: $0) }
        report.jobs = try await drain { try RetentionRecords.purgeIdleJobs(limit: limit, in: $0) }
        report.pagesReclaimed = try await reclaim()
        // After the vacuum, so the WAL frames of the deleted rows go too.
        WALCheckpoint.truncateSoon(path: database.path)
        return report
    }

    /// Runs `batch` until it deletes fewer than a full batch, yielding between transactions.
    private func drain(_ batch: @escaping @Sendable (SQLiteConnection) throws -> Int) async throws -> Int {
        var total = 0
        while !Task.isCancelled {
            let deleted = try await database.write(batch)
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
            let (before, after) = try await database.write { db in
                let before = try RetentionRecords.freePages(in: db)
                if before > 0 { try RetentionRecords.reclaim(pages: pages, in: db) }
                return (before, try RetentionRecords.freePages(in: db))
            }
            reclaimed += before - after
            if after == 0 || after >= before { break }
            await Task.yield()
        }
        return reclaimed
    }
}

/// Copies the WAL into the database file and truncates it to zero bytes, so pages that once
/// held deleted data (raw privacy identifiers) leave the disk. Runs on its own short-lived
/// connection; gives up after 200 ms (answering false) while a reader still uses old frames:
/// the next sweep tries again.
enum WALCheckpoint {
    /// One checkpoint at a time, on a Dispatch thread: never on the store's writer thread (every
    /// write would wait for it) nor on the cooperative pool (it blocks on the file).
    private static let queue = DispatchQueue(label: "rokt-gateway.wal-checkpoint")

    /// Asks for a truncation after the current commit; requests made while one waits share it.
    static func truncateSoon(path: String) {
        guard requested.withLock({ $0.insert(path).inserted }) else { return }
        queue.async {
            _ = requested.withLock { $0.remove(path) }
            truncate(path: path)
        }
    }
    private static let requested = Mutex<Set<String>>([])

    @discardableResult
    static func truncate(path: String) -> Bool {
        guard let connection = try? SQLiteConnection(path: path, mode: .readWrite, configuration: .init(busyTimeout: .milliseconds(200))),
              let row = try? connection.queryOne("PRAGMA wal_checkpoint(TRUNCATE)") else { return false }
        return (try? row.get(0, as: Int.self)) == 0
    }
}

/// Freed pages go back to the file system only in `auto_vacuum=INCREMENTAL` files. The mode
/// takes effect on an existing (or a fresh WAL) file through one VACUUM, run at start when the
/// file is not in that mode yet. It must run before any other connection opens the file: an
/// open connection keeps the mode it read and would write the file as if it had not changed.
enum IncrementalVacuum {
    /// Answers whether a VACUUM ran.
    @discardableResult
    static func enable(path: String) throws -> Bool {
        let connection = try SQLiteConnection(path: path, mode: .readWriteCreate)
        guard try connection.queryOne("PRAGMA auto_vacuum")?.get(0, as: Int.self) != 2 else { return false }
        try connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        try connection.execute("VACUUM")
        return true
    }
}
