import Rokt
import Store
import Synchronization

/// What every reconciler needs, passed down from the engine.
struct EngineContext: Sendable {
    let database: Database
    let rokt: RoktClient
    let clock: any WallClock
    let configuration: EngineConfiguration
    let board: CompletionBoard
    let owner: String
    /// Told how long each read-modify-write round took (the engine's concurrency limit feeds on it).
    let observeRound: @Sendable (Duration) -> Void
    /// Calls made during the current job run, written by its next write (never a write of their own).
    let calls = CallBuffer()
    /// When the current job's lease runs out, as far as this run knows.
    let lease = LeaseDeadline()

    var now: Int64 { clock.nowMillis() }

    /// A context for one job run, with its own call buffer and lease deadline.
    func forJob(_ job: ClaimedJob) -> EngineContext {
        let context = EngineContext(database: database, rokt: rokt, clock: clock, configuration: configuration, board: board, owner: owner,
                                    observeRound: observeRound)
        context.lease.until = job.leaseUntil
        return context
    }

    /// Records an upstream call for operations (the support-ticket log); it is stored by the run's next write.
    func log(_ call: UpstreamCall, for ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        calls.append(OperationRecords.json(call), for: ids)
    }

    /// A write transaction that also stores the calls logged since the last one.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let pending = calls.drain()
        do {
            return try await database.write { db in
                for (call, ids) in pending { try OperationRecords.appendCall(call, to: ids, in: db) }
                return try body(db)
            }
        } catch {
            calls.restore(pending)
            throw error
        }
    }

    /// Ends operations in one transaction, then wakes their waiters. Documents are encoded here,
    /// once per distinct result, so the writer thread only writes.
    func finish(_ endings: [OperationEnding], job: ClaimedJob, deletePendingWrite: Bool) async throws {
        let now = self.now
        var results: [String] = []
        var resultIndex: [String: Int] = [:]
        let rows = endings.map { ending -> (id: String, succeeded: Bool, changed: Bool?, result: Int?, error: String?) in
            var slot: Int?
            if let result = ending.result {
                if let known = resultIndex[result] { slot = known } else {
                    slot = results.count
                    resultIndex[result] = results.count
                    results.append(result)
                }
            }
            return (ending.id, ending.error == nil, ending.changed, slot, OperationRecords.encodedProblem(ending.error, operationId: ending.id))
        }
        try await write { [results] db in
            let ids = try results.map { try OperationRecords.insertResult($0, in: db) }
            for row in rows {
                try OperationRecords.finish(row.id, succeeded: row.succeeded, changed: row.changed, resultId: row.result.map { ids[$0] },
                                            error: row.error, now: now, in: db)
            }
            if deletePendingWrite { try JobRecords.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) }
        }
        board.complete(endings.map(\.id))
    }

    /// Extends the job's lease before a step that talks to Rokt, once half of it is used up:
    /// a commit per round would cost more than the rest of a busy merchant's round.
    func renew(_ job: ClaimedJob) async throws {
        let now = self.now
        let lease = configuration.lease.milliseconds
        guard self.lease.until - now < lease / 2 else { return }
        let leaseUntil = now + lease
        let owner = self.owner
        try await write { db in try JobRecords.renew(job, owner: owner, leaseUntil: leaseUntil, in: db) }
        self.lease.until = leaseUntil
    }

    func retryDelay(attempts: Int, retryAfter: Duration?) -> Duration {
        var random = SystemRandomNumberGenerator()
        return configuration.retry.delay(afterAttempt: attempts, retryAfter: retryAfter, using: &random)
    }
}

/// How one operation ends.
struct OperationEnding: Sendable {
    var id: String
    var changed: Bool?
    /// The result document, encoded.
    var result: String?
    var error: Problem?

    static func success(_ id: String, changed: Bool, result: String?) -> OperationEnding {
        OperationEnding(id: id, changed: changed, result: result, error: nil)
    }

    static func failure(_ id: String, _ problem: Problem) -> OperationEnding {
        OperationEnding(id: id, changed: false, result: nil, error: problem)
    }
}

/// What a job run leaves behind.
enum JobOutcome: Sendable, Equatable {
    /// Nothing is left to do (new work may have arrived meanwhile: the release checks).
    case idle
    /// Rokt is failing: come back after the delay (the pending write is kept, same key).
    case retry(after: Duration)
}

/// Upstream calls waiting to be stored with the next write of a job run.
final class CallBuffer: Sendable {
    private let entries = Mutex<[(call: String, ids: [String])]>([])
    func append(_ call: String, for ids: [String]) { entries.withLock { $0.append((call, ids)) } }
    func drain() -> [(call: String, ids: [String])] { entries.withLock { entries in defer { entries = [] }; return entries } }
    func restore(_ pending: [(call: String, ids: [String])]) { entries.withLock { $0.insert(contentsOf: pending, at: 0) } }
}

/// The lease deadline of one job run (written by renewals, read before each step).
final class LeaseDeadline: Sendable {
    private let value = Mutex<Int64>(0)
    var until: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
