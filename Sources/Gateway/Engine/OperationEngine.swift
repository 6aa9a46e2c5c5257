import Rokt
import Store
import Synchronization

/// Accepts operations durably and runs them against Rokt.
///
/// Guarantees: `submit` returns only after the operation is committed (synchronous=FULL, group
/// commit); every (merchant, resource) job runs in one worker at a time under an expiring lease;
/// operations queued behind a running one are merged into its next write; a restart resumes every
/// unfinished operation, re-sending pending writes with their stored idempotency keys.
public final class OperationEngine: Sendable {
    private struct State {
        var active: Set<ClaimedJobKey> = []
        var stopping = false
        var scheduler: Task<Void, Never>?
        var workers: [ClaimedJobKey: Task<Void, Never>] = [:]
    }

    let context: EngineContext
    private let wake = WakeSignal()
    private let state = Mutex(State())
    private let limit: LockedConcurrencyLimit
    private let passes = Atomic<Int>(0)

    public init(database: Database, rokt: RoktClient, clock: any WallClock, configuration: EngineConfiguration = EngineConfiguration()) {
        let limit = LockedConcurrencyLimit(ConcurrencyLimit(minimum: configuration.minConcurrentJobs, maximum: configuration.maxConcurrentJobs))
        self.limit = limit
        context = EngineContext(database: database, rokt: rokt, clock: clock, configuration: configuration,
                                board: CompletionBoard(), owner: Identifiers.prefixed("engine_", now: clock.nowMillis()),
                                observeRound: { round in limit.record(round: round) })
    }

    /// Times the scheduler has looked for work (tests check that it waits rather than spins).
    var schedulingPasses: Int { passes.load(ordering: .relaxed) }

    /// Takes over the leases left by earlier (dead) processes and starts scheduling.
    public func start() async throws {
        let owner = context.owner
        _ = try await context.database.write { db in try JobRecords.releaseForeignLeases(owner: owner, in: db) }
        let task = Task { await self.schedule() }
        state.withLock { $0.scheduler = task }
    }

    /// Validated intent in, committed operation out (state `queued`). Throws `QueueFull` (503)
    /// when `maxQueuedOperations` operations are queued or running already.
    public func submit(_ intent: OperationIntent, merchantId: String, request: JSONValue, apiKeyId: String?,
                       alsoInTransaction: (@Sendable (SQLiteConnection, String) throws -> Void)? = nil) async throws -> Operation {
        let now = context.now
        let operation = StoredOperation(
            id: Identifiers.operationID(now: now), type: intent.operationType, merchantId: merchantId, resource: intent.resource,
            state: .queued, changed: nil, attempts: 0, createdAt: now, updatedAt: now, request: request, intent: intent,
            result: nil, error: nil, apiKeyId: apiKeyId)
        let encoded = OperationRecords.Encoded(operation)
        let bound = context.configuration.maxQueuedOperations
        try await context.database.write { db in
            try OperationRecords.insert(operation, encoded: encoded, in: db)
            try JobRecords.markDue(merchantId: merchantId, resource: intent.resource, at: now, in: db)
            try alsoInTransaction?(db, operation.id)
            // Decided from the maintained counts (two rows, this operation included), after the
            // caller's own checks (a register already under way answers with that one instead).
            guard try StoreGauges.unfinishedOperations(in: db) <= bound else { throw QueueFull(limit: bound) }
        }
        // A job this process is already working on picks the new operation up in its next round.
        if !state.withLock({ $0.active.contains(ClaimedJobKey(merchantId: merchantId, resource: intent.resource)) }) { wake.signal() }
        return operation.document(upstream: [])
    }

    /// The operation as stored now.
    public func operation(_ id: String) async throws -> Operation? {
        try await context.database.read { db in try OperationRecords.document(id, in: db) }
    }

    /// Waits up to `timeout` for the operation to end; returns it as it is then.
    public func wait(for id: String, timeout: Duration) async throws -> Operation? {
        if timeout > .zero {
            _ = await context.board.wait(for: id, timeout: timeout) { [context] in
                ((try? await context.database.read { db in try OperationRecords.load(id, in: db) })??.state.isTerminal) ?? false
            }
        }
        return try await operation(id)
    }

    public func list(merchantIds: Set<String>?, merchantId: String?, state: OperationState?, limit: Int, after: String?) async throws -> [Operation] {
        try await context.database.read { db in
            try OperationRecords.list(merchantIds: merchantIds, merchantId: merchantId, state: state, limit: limit, after: after, in: db)
                .map { $0.document(upstream: try OperationRecords.calls(of: $0.id, in: db)) }
        }
    }

    /// Stops claiming, lets running jobs finish their current step (up to `grace`), hands leases back.
    public func shutdown(grace: Duration = .seconds(5)) async {
        let (scheduler, workers) = state.withLock { state in
            state.stopping = true
            return (state.scheduler, Array(state.workers.values))
        }
        wake.signal()
        await scheduler?.value
        await awaitOrCancel(workers, by: ContinuousClock.now + grace)
        let owner = context.owner
        try? await context.database.write { db in try JobRecords.releaseAll(owner: owner, in: db) }
    }

    // MARK: Scheduling

    private var isStopping: Bool { state.withLock { $0.stopping } }
    /// Started and not shutting down (`/readyz`).
    public var isRunning: Bool { state.withLock { $0.scheduler != nil && !$0.stopping } }

    private func schedule() async {
        while !isStopping {
            passes.add(1, ordering: .relaxed)
            let (running, busy) = state.withLock { ($0.active.count, $0.active) }
            let capacity = limit.current - running
            guard capacity > 0 else {
                // Every slot is taken: the next finishing job signals. (Waiting for the next due
                // time instead would spin on reads while due jobs wait for a slot.)
                await wake.wait(timeout: .seconds(1))
                continue
            }
            let now = context.now
            let owner = context.owner
            let leaseUntil = now + context.configuration.lease.milliseconds
            // Look on a reader first: most wake-ups find nothing new, and a claim is a write.
            let claimable = (try? await context.database.read { db in try JobRecords.hasClaimable(now: now, excluding: busy, in: db) }) ?? true
            let claimed = !claimable ? [] : (try? await context.database.write { db in
                try JobRecords.claim(owner: owner, now: now, leaseUntil: leaseUntil, limit: capacity, excluding: busy, in: db)
            }) ?? []
            for job in claimed { launch(job) }
            let claimedAll = claimed.count == capacity
            if claimedAll { continue }
            let nextDue = (try? await context.database.read { db in try JobRecords.nextDue(in: db) }) ?? nil
            let wait = nextDue.map { max(0, min($0 - context.now, 1000)) } ?? 1000
            await wake.wait(timeout: .milliseconds(wait))
        }
    }

    private func launch(_ job: ClaimedJob) {
        let key = ClaimedJobKey(job)
        state.withLock { state in
            state.active.insert(key)
            state.workers[key] = Task { await self.work(job) }
        }
    }

    private func work(_ job: ClaimedJob) async {
        let outcome: JobOutcome
        let context = self.context.forJob(job)
        switch JobResource(job.resource) {
        case .controls: outcome = await ControlsReconciler(context: context).run(job)
        case .status: outcome = await StatusReconciler(context: context).run(job)
        case .singleWrite: outcome = await SingleWriteReconciler(context: context).run(job)
        case nil: outcome = .idle
        }
        let now = context.now
        let maxAge = context.configuration.retry.maxAge
        do {
            let expired = try await context.write { db -> [String] in
                switch outcome {
                case .idle:
                    // Work that arrived while we ran is due at once; otherwise the job sleeps.
                    let more = try db.query("""
                        SELECT 1 FROM operations WHERE merchant_id = ? AND resource = ? AND state = 'queued' LIMIT 1
                        """, [job.merchantId, job.resource]).isEmpty == false
                    let pending = try JobRecords.pendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) != nil
                    try JobRecords.release(job, dueAt: more || pending ? now : nil, attempts: 0, in: db)
                    return []
                case .retry(let after):
                    let expired = try Self.failExpired(job, now: now, maxAge: maxAge, in: db)
                    try JobRecords.release(job, dueAt: now + after.milliseconds, attempts: job.attempts + 1, in: db)
                    return expired
                }
            }
            context.board.complete(expired)
        } catch {
            // The lease expires on its own; the job is taken again then.
        }
        state.withLock { state in
            state.active.remove(ClaimedJobKey(job))
            state.workers[ClaimedJobKey(job)] = nil
        }
        wake.signal()
    }

    /// Operations older than the retry policy's maximum age stop retrying: they fail with
    /// `upstream_unavailable` (and the pending write goes, its key never to be re-sent).
    private static func failExpired(_ job: ClaimedJob, now: Int64, maxAge: Duration, in db: SQLiteConnection) throws -> [String] {
        let cutoff = now - maxAge.milliseconds
        let expired = try db.query("""
            SELECT id FROM operations WHERE merchant_id = ? AND resource = ? AND state IN ('queued', 'running') AND created_at <= ?
            """, [job.merchantId, job.resource, cutoff]).map { try $0.get(0, as: String.self) }
        guard !expired.isEmpty else { return [] }
        let problem = Problem(status: 504, code: "upstream_unavailable",
                              detail: "Rokt could not be reached successfully within \(maxAge.milliseconds / 1000) s; the change may not have been applied: read the state to check.")
        let pending = try JobRecords.pendingWrite(merchantId: job.merchantId, resource: job.resource, in: db)
        for id in expired {
            var ending = problem
            // A write in flight that cannot be read back: "read the state" cannot tell the caller anything.
            if let pending, pending.operationIds.contains(id), try OperationRecords.load(id, in: db)?.intentKind?.hasReadBack == false {
                ending = OutcomeUnknown.problem(for: pending, calls: try OperationRecords.calls(of: id, in: db))
            }
            try OperationRecords.finish(id, succeeded: false, changed: false, resultId: nil,
                                        error: OperationRecords.encodedProblem(ending, operationId: id), now: now, in: db)
        }
        if let pending, pending.operationIds.allSatisfy(expired.contains) {
            try JobRecords.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, in: db)
        }
        return expired
    }
}

/// The limit shared by the scheduler (reads it) and the job runs (feed it round times).
final class LockedConcurrencyLimit: Sendable {
    private let value: Mutex<ConcurrencyLimit>
    init(_ limit: ConcurrencyLimit) { value = Mutex(limit) }
    var current: Int { value.withLock { $0.current } }
    func record(round: Duration) {
        let now = ContinuousClock.now
        value.withLock { $0.record(round: round, at: now) }
    }
}
