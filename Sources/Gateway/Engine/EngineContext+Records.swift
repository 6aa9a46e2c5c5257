import HTTP
import JSON
import Rokt

/// Everything a job run reads from or writes to the store. The reconcilers go through these
/// methods only: a run's writes also store the upstream calls it logged since the last one,
/// and the operations it loads are remembered, so its endings are built from memory.
extension EngineContext {
    /// The write a run left committed and unanswered for this job, if any.
    func pendingWrite(for job: ClaimedJob) async throws -> PendingWrite? {
        try await store.pendingWrite(merchantId: job.merchantId, resource: job.resource)
    }

    /// The job's queued operations, oldest first.
    func queued(for job: ClaimedJob, limit: Int) async throws -> [StoredOperation] {
        let queued = remembered(try await store.queued(merchantId: job.merchantId, resource: job.resource, limit: limit))
        follow(queued.first?.trace)
        return queued
    }

    /// The run goes on in the trace of the oldest operation it took on (a run serves the callers
    /// queued behind it in turn): a new span in that trace, unless the run is in it already.
    private func follow(_ record: TraceRecord?) {
        guard let record, let scope = TraceScope.active, scope.trace.traceId != record.traceId else { return }
        scope.replace(TraceContext.continuing(record, requestId: scope.trace.requestId, random: runtime.random))
    }

    /// The operations with these ids (those that exist), in the order given.
    func operations(_ ids: [String]) async throws -> [StoredOperation] {
        remembered(try await store.operations(ids))
    }

    func operation(_ id: String) async throws -> StoredOperation? {
        remembered(try await store.operation(id).map { [$0] } ?? []).first
    }

    /// The job's unfinished operations created at or before `cutoff`.
    func unfinished(for job: ClaimedJob, createdAtOrBefore cutoff: Int64) async throws -> [StoredOperation] {
        remembered(try await store.unfinished(merchantId: job.merchantId, resource: job.resource, createdAtOrBefore: cutoff))
    }

    /// The upstream calls logged for an operation so far (the stored ones).
    func calls(of id: String) async throws -> [UpstreamCall] {
        try await store.calls(of: id)
    }

    /// Every call logged for an operation: the stored ones, then those the run's next write stores.
    func loggedCalls(of id: String) async throws -> [UpstreamCall] {
        try await store.calls(of: id) + calls.pending(for: id)
    }

    /// Commits a write before it is sent (its key is durable first) and marks its operations running.
    func begin(_ write: PendingWrite) async throws {
        let now = self.now
        try await withCalls { [store] calls in try await store.begin(write, now: now, calls: calls) }
        known.update(write.operationIds) { operation in
            guard !operation.state.isTerminal else { return }
            operation.state = .running
            operation.attempts += 1
            operation.updatedAt = now
        }
    }

    /// Drops a pending write whose key must not be reused; its operations go back in line.
    func abandon(_ write: PendingWrite) async throws {
        let now = self.now
        try await withCalls { [store] calls in try await store.abandon(write, now: now, calls: calls) }
        known.update(write.operationIds) { operation in
            guard operation.state == .running else { return }
            operation.state = .queued
            operation.updatedAt = now
        }
    }

    /// Drops the job's pending write (its operations have ended).
    func dropPendingWrite(of job: ClaimedJob) async throws {
        try await withCalls { [store] calls in try await store.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, calls: calls) }
    }

    /// One more attempt of a write being re-sent, for the operations' `attempts`.
    func countAttempt(_ ids: [String]) async throws {
        let now = self.now
        try await withCalls { [store] calls in try await store.countAttempt(ids, now: now, calls: calls) }
        known.update(ids) { operation in
            guard operation.state == .running else { return }
            operation.attempts += 1
            operation.updatedAt = now
        }
    }

    /// Rokt answered 202 with an operation id: polling resumes from it after a restart.
    func setUpstreamOperation(_ upstreamId: String, for write: PendingWrite) async throws {
        try await withCalls { [store] calls in
            try await store.setUpstreamOperation(upstreamId, merchantId: write.merchantId, resource: write.resource, calls: calls)
        }
    }

    /// A register Rokt answered: the merchant row learns its account id and the operation moves
    /// under it, before the operation ends (its waiters see it under the new merchant); a new
    /// account also records `merchant.registered` in the same transaction.
    func recordRegistration(
        of operation: StoredOperation, accountId: String, externalAccountId: String, merchant: JSONValue,
        isNew: Bool
    ) async throws {
        let now = self.now
        let answer = RegistrationAnswer(
            operationId: operation.id, accountId: accountId, externalAccountId: externalAccountId,
            event: isNew
                ? WebhookEvents.registered(
                    merchantId: accountId, merchant: merchant, operationId: operation.id, trace: operation.trace) : nil)
        try await withCalls { [store] calls in try await store.recordRegistration(answer, now: now, calls: calls) }
        known.remember([known.current(operation)])
        known.update([operation.id]) { $0.merchantId = accountId }
    }

    /// Records an upstream call for operations (the support-ticket log); it is stored by the run's next write.
    func log(_ call: UpstreamCall, for ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        calls.append(LoggedCall(call: call, operationIds: ids))
    }

    /// Ends operations in one transaction with the events their endings cause (built here, from
    /// the operations as this run knows them); waiters wake once it commits.
    func finish(_ endings: [OperationEnding], job: ClaimedJob, deletePendingWrite: Bool) async throws {
        let now = self.now
        let finishes = records(of: endings, at: now)
        try await withCalls { [store] calls in
            try await store.finish(finishes, deletePendingWriteOf: deletePendingWrite ? ClaimedJobKey(job) : nil, now: now, calls: calls)
        }
    }

    /// Hands the job back after a run: idle, or to retry later, ending the operations past the
    /// retry window in the same transaction.
    func release(_ job: ClaimedJob, _ outcome: JobOutcome, expired: [OperationEnding], deletePendingWrite: Bool) async throws {
        let now = self.now
        let release: JobRelease =
            switch outcome {
            case .idle: .idle(now: now)
            case .retry(let after):
                .retry(
                    dueAt: now + after.milliseconds, attempts: job.attempts + 1, expired: records(of: expired, at: now),
                    deletePendingWrite: deletePendingWrite, now: now)
            case .deferred(let after):
                .retry(
                    dueAt: now + after.milliseconds, attempts: job.attempts, expired: records(of: expired, at: now),
                    deletePendingWrite: deletePendingWrite, now: now)
            }
        try await withCalls { [store] calls in try await store.release(job, release, calls: calls) }
    }

    /// Extends the job's lease before a step that talks to Rokt, once half of it is used up:
    /// a commit per round would cost more than the rest of a busy merchant's round.
    func renew(_ job: ClaimedJob) async throws {
        let now = self.now
        let lease = configuration.lease.milliseconds
        guard self.lease.until - now < lease / 2 else { return }
        let leaseUntil = now + lease
        let owner = self.owner
        try await withCalls { [store] calls in try await store.renew(job, owner: owner, leaseUntil: leaseUntil, calls: calls) }
        self.lease.until = leaseUntil
    }

    // MARK: Internals

    /// Runs a store write with the calls logged since the last one; they go back in the buffer
    /// when it fails, for the next write.
    private func withCalls<T: Sendable>(_ write: ([LoggedCall]) async throws -> T) async throws -> T {
        let pending = calls.drain()
        do {
            return try await write(pending)
        } catch {
            calls.restore(pending)
            throw error
        }
    }

    private func remembered(_ operations: [StoredOperation]) -> [StoredOperation] {
        known.remember(operations)
        return operations
    }

    /// The store's form of endings: the events each causes, built from the run's copy of its
    /// operation with the ending applied, and for a privacy request its intent without the raw
    /// identifiers.
    private func records(of endings: [OperationEnding], at now: Int64) -> [OperationFinish] {
        endings.map { ending in
            let operation = known.current(ending.operation)
            var redacted: OperationIntent?
            if case .single(var write) = operation.intent, write.kind == .privacy {
                write.body = PrivacyIdentifiers.redacted(write.body)
                redacted = .single(write)
            }
            return OperationFinish(
                id: ending.id, succeeded: ending.error == nil, changed: ending.changed, result: ending.result,
                error: ending.storedError, redactedIntent: redacted
            ) {
                WebhookEvents.ending(ending.applied(to: operation, at: now))
            }
        }
    }
}
