import HTTP
import JSON
import Rokt
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
    private let commits: any CommitFeed
    private let wake = WakeSignal()
    private let state = Mutex(State())
    private let limit: LockedConcurrencyLimit
    private let passes = Atomic<Int>(0)
    private let observation = Mutex<CommitObservation?>(nil)
    private let retryBudget: LockedRetryBudget

    init(
        store: any OperationStore, commits: any CommitFeed, rokt: RoktClient, clock: any WallClock,
        configuration: EngineConfiguration = EngineConfiguration()
    ) {
        let limit = LockedConcurrencyLimit(ConcurrencyLimit(minimum: configuration.minConcurrentJobs, maximum: configuration.maxConcurrentJobs))
        self.limit = limit
        self.commits = commits
        retryBudget = LockedRetryBudget(configuration.retryBudget, origin: configuration.runtime.monotonicNow())
        context = EngineContext(
            store: store, rokt: rokt, clock: clock, configuration: configuration,
            board: CompletionBoard(), owner: Identifiers.prefixed("engine_", now: clock.nowMillis()),
            observeRound: { [monotonicNow = configuration.runtime.monotonicNow] round, firstRead in
                limit.record(round: round, firstRead: firstRead, at: monotonicNow(), replicas: commits.replicasWorking)
            })
    }

    /// Times the scheduler has looked for work (tests check that it waits rather than spins).
    var schedulingPasses: Int { passes.load(ordering: .relaxed) }

    /// The concurrency limit and the replicas it is shared with (`/metrics`).
    var gauges: EngineGauges { EngineGauges(concurrencyLimit: limit.jobs, replicasWorking: commits.replicasWorking) }

    /// Job runs deferred because the retry budget was spent (`/metrics`).
    public var retryBudgetExhausted: Int { retryBudget.exhaustedCount }

    /// Takes over the leases left by earlier (dead) processes and starts scheduling.
    public func start() async throws {
        _ = try await context.store.releaseForeignLeases(owner: context.owner)
        let board = context.board
        let observation = commits.observe { [weak self] commit in
            switch commit {
            case .operationsEnded(let ids): board.complete(ids)
            // A job this process is already working on picks the new operation up in its next round.
            case .jobDue(let job): if let self, !self.state.withLock({ $0.active.contains(job) }) { self.wake.signal() }
            case .deliveriesDue, .apiKeysChanged: break
            }
        }
        self.observation.withLock { $0 = observation }
        let task = Task { await self.schedule() }
        state.withLock { $0.scheduler = task }
    }

    /// Validated intent in, committed operation out (state `queued`), bound in the same
    /// transaction to the caller's Idempotency-Key. Throws `QueueFull` (503) when
    /// `maxQueuedOperations` operations are queued or running already.
    func submit(
        _ intent: OperationIntent, merchantId: String, request: JSONValue, apiKeyId: String?,
        inboundKey: InboundKey? = nil
    ) async throws -> Operation {
        switch try await submit(intent, merchantId: merchantId, request: request, apiKeyId: apiKeyId, inboundKey: inboundKey, registration: nil) {
        case .accepted(let operation), .alreadyRegistering(let operation): operation
        }
    }

    /// What a register's `submit` answers.
    enum Submitted: Sendable {
        case accepted(Operation)
        /// Another live register of the same externalAccountId: that operation (the caller's
        /// key, if any, now bound to it); nothing new was stored.
        case alreadyRegistering(Operation)
    }

    /// `submit` for a register: the externalAccountId is bound to the new operation in the same
    /// transaction, unless a live operation registers it already.
    func submit(
        _ intent: OperationIntent, merchantId: String, request: JSONValue, apiKeyId: String?, inboundKey: InboundKey?,
        registration: MerchantRegistration?
    ) async throws -> Submitted {
        let now = context.now
        let operation = StoredOperation(
            id: Identifiers.operationId(now: now), type: intent.operationType, merchantId: merchantId, resource: intent.resource,
            state: .queued, changed: nil, attempts: 0, createdAt: now, updatedAt: now, request: request, intent: intent,
            result: nil, error: nil, apiKeyId: apiKeyId, trace: TraceContext.current?.record)
        let bound = context.configuration.maxQueuedOperations
        switch try await context.store.submit(
            Submission(
                operation: operation, inboundKey: inboundKey, registration: registration,
                maxUnfinished: bound))
        {
        case .accepted: return .accepted(operation.document(upstream: []))
        case .alreadyRegistering(let existing): return .alreadyRegistering(existing)
        case .queueFull(let limit): throw QueueFull(limit: limit)
        }
    }

    /// The operation as stored now.
    public func operation(_ id: String) async throws -> Operation? {
        try await context.store.document(id)
    }

    /// Waits up to `timeout` for the operation to end; returns it as it is then.
    public func wait(for id: String, timeout: Duration) async throws -> Operation? {
        if timeout > .zero {
            _ = await context.board.wait(for: id, timeout: timeout) { [context] in
                ((try? await context.store.operation(id))??.state.isTerminal) ?? false
            }
        }
        return try await operation(id)
    }

    public func list(merchantIds: Set<String>?, merchantId: String?, state: OperationState?, limit: Int, after: String?) async throws -> [Operation] {
        try await context.store.list(OperationQuery(merchantIds: merchantIds, merchantId: merchantId, state: state, limit: limit, after: after))
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
        observation.withLock { $0 }?.cancel()
        do { try await context.store.releaseAll(owner: context.owner) } catch {
            // Their leases expire instead; another process takes the jobs then.
            context.report(error, "handing the job leases back failed", operationIds: [])
        }
    }

    // MARK: Scheduling

    private var isStopping: Bool { state.withLock { $0.stopping } }
    /// Started and not shutting down (`/readyz`).
    public var isRunning: Bool { state.withLock { $0.scheduler != nil && !$0.stopping } }

    private func schedule() async {
        let runtime = context.configuration.runtime
        var lastPass: ContinuousClock.Instant?
        while !isStopping {
            if let lastPass, case let wait = lastPass + context.configuration.schedulingInterval - runtime.monotonicNow(), wait > .zero {
                try? await runtime.sleep(wait)
            }
            lastPass = runtime.monotonicNow()
            passes.add(1, ordering: .relaxed)
            if let hold = context.rokt.protection.holdRemaining() {
                // Rokt's circuit is open or it asked us to pause: queued work stays queued (held)
                // rather than being claimed only to be refused.
                await wake.wait(timeout: min(hold, .seconds(1)))
                continue
            }
            let busy = state.withLock { $0.active }
            let capacity = limit.free
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
            let claimable = await scheduling("looking for due jobs") { try await context.store.hasClaimableJobs(now: now, excluding: busy) } ?? true
            let claimed =
                !claimable
                ? []
                : await scheduling("claiming jobs") {
                    try await context.store.claimJobs(owner: owner, now: now, leaseUntil: leaseUntil, limit: capacity, excluding: busy)
                } ?? []
            for job in claimed { launch(job) }
            let claimedAll = claimed.count == capacity
            if claimedAll { continue }
            let nextDue = await scheduling("reading the next due time") { try await context.store.nextJobDue() } ?? nil
            let wait = nextDue.map { max(0, min($0 - context.now, 1000)) } ?? 1000
            await wake.wait(timeout: .milliseconds(wait))
        }
    }

    /// A scheduler step's store call; a failure is logged and the loop goes on (it retries within a second).
    private func scheduling<T: Sendable>(_ step: String, _ body: () async throws -> T) async -> T? {
        do { return try await body() } catch {
            context.report(error, "scheduling failed while \(step)", operationIds: [])
            return nil
        }
    }

    private func launch(_ job: ClaimedJob) {
        let key = ClaimedJobKey(job)
        limit.runStarted()
        state.withLock { state in
            state.active.insert(key)
            state.workers[key] = Task { await self.work(job) }
        }
    }

    private func work(_ job: ClaimedJob) async {
        let context = self.context.forJob(job)
        // The run works in the trace of the request behind its oldest operation, also after a
        // restart: its calls to Rokt and its log lines carry that trace id, under a span of its own.
        let stored = try? await context.store.trace(merchantId: job.merchantId, resource: job.resource)
        let trace = TraceContext.continuing(stored, requestId: Identifiers.requestId(now: context.now), random: context.runtime.random)
        let deferral = deferral(of: job)
        await TraceContext.withCurrent(trace) {
            // Callers waiting on a read go before the engine in the outbound limiter's queue.
            await UpstreamPriority.$current.withValue(.background) { await Self.run(job, context: context, deferral: deferral) }
        }
        limit.runEnded(handedOver: context.handedOver.happened)
        state.withLock { state in
            state.active.remove(ClaimedJobKey(job))
            state.workers[ClaimedJobKey(job)] = nil
        }
        wake.signal()
    }

    /// Whether the run must wait instead: Rokt is held (circuit open, paused), or the job failed
    /// before and the retry budget is spent. Then nothing is attempted and no attempt is counted.
    private func deferral(of job: ClaimedJob) -> Duration? {
        if let hold = context.rokt.protection.holdRemaining() { return hold }
        return retryBudget.admit(isRetry: job.attempts > 0, now: context.runtime.monotonicNow())
    }

    private static func run(_ job: ClaimedJob, context: EngineContext, deferral: Duration?) async {
        let outcome: JobOutcome
        switch (JobResource(job.resource), deferral) {
        case (_, let deferral?): outcome = .deferred(after: deferral)
        case (.controls, nil): outcome = await ControlsReconciler(context: context).run(job)
        case (.status, nil): outcome = await StatusReconciler(context: context).run(job)
        case (.singleWrite, nil): outcome = await SingleWriteReconciler(context: context).run(job)
        case (nil, nil): outcome = .idle
        }
        do {
            let (expired, deletePendingWrite) = outcome == .idle ? ([], false) : try await expired(job, context: context)
            try await context.release(job, outcome, expired: expired, deletePendingWrite: deletePendingWrite)
        } catch {
            // The lease expires on its own; the job is taken again then.
            context.report(error, "releasing a job failed", operationIds: [])
        }
    }

    /// Operations older than the retry policy's maximum age stop retrying: they fail with
    /// `upstream_unavailable` (and the pending write goes when it served only them, its key
    /// never to be re-sent). Loaded before the release that ends them: the job's lease keeps
    /// every other writer away from its operations meanwhile, and `finish` never overwrites an
    /// ending, so the release's transaction ends exactly these.
    private static func expired(_ job: ClaimedJob, context: EngineContext) async throws -> (endings: [OperationEnding], deletePendingWrite: Bool) {
        let maxAge = context.configuration.retry.maxAge
        let expired = try await context.unfinished(for: job, createdAtOrBefore: context.now - maxAge.milliseconds)
        guard !expired.isEmpty else { return ([], false) }
        let problem = Problem(
            status: 504, code: .upstreamUnavailable,
            detail: "Rokt could not be reached successfully within \(maxAge.milliseconds / 1000) s; the change may not have been applied: read the state to check.")
        let pending = try await context.pendingWrite(for: job)
        var endings: [OperationEnding] = []
        for operation in expired {
            var ending = problem
            // A write in flight that cannot be read back: "read the state" cannot tell the caller anything.
            if let pending, pending.operationIds.contains(operation.id), operation.intentKind?.hasReadBack == false {
                ending = OutcomeUnknown.problem(for: pending, calls: try await context.loggedCalls(of: operation.id))
            }
            endings.append(.failure(operation, ending))
        }
        let ids = Set(expired.map(\.id))
        return (endings, pending.map { $0.operationIds.allSatisfy(ids.contains) } ?? false)
    }
}

/// The limit shared by the scheduler (asks it how many jobs may start) and the job runs (count themselves in and out, feed it their rounds).
final class LockedConcurrencyLimit: Sendable {
    private let value: Mutex<ConcurrencyLimit>
    init(_ limit: ConcurrencyLimit) { value = Mutex(limit) }
    /// Jobs the scheduler may start now (`ConcurrencyLimit.free`).
    var free: Int { value.withLock { $0.free } }
    /// The limit itself (fractional below one job).
    var jobs: Double { value.withLock { $0.limit } }
    /// Records a round: its time to the first answer from Rokt is the limit's sample (a round
    /// that read nothing gives none); answers whether its run goes on (resting for a share of the
    /// whole round's time) or hands its slot back.
    func record(round: Duration, firstRead: Duration?, at now: ContinuousClock.Instant, replicas: Int) -> AfterRound {
        value.withLock { limit in
            limit.set(replicas: replicas)
            if let firstRead { limit.record(round: firstRead, at: now) }
            return limit.afterRound(round)
        }
    }
    func runStarted() { value.withLock { $0.runStarted() } }
    func runEnded(handedOver: Bool) { value.withLock { $0.runEnded(handedOver: handedOver) } }
}
