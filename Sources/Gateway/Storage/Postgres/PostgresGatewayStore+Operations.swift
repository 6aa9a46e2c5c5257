import HTTP
import Postgres
import Rokt

/// `OperationStore` on PostgreSQL. Where it differs from SQLite's single writer:
/// - `submit` takes no global lock: registrations are decided by the `merchants` key, and the
///   queue bound is read from the sharded counts without locking, so concurrent submits may
///   together overshoot `maxUnfinished` by at most their number (minus one).
/// - Leases end by expiry only, and the job writes of a run are fenced (`LeaseLost`).
extension PostgresGatewayStore {
    /// Thrown inside the submit transaction to roll it back when the queue is full.
    private struct QueueBoundReached: Error {}

    func submit(_ submission: Submission) async throws -> SubmitOutcome {
        let operation = submission.operation
        let encoded = OperationRecords.Encoded(operation)
        let job = ClaimedJobKey(merchantId: operation.merchantId, resource: operation.resource)
        do {
            // Without a registration no statement depends on another's answer: one round trip,
            // in which the server itself refuses a full queue or a job row purged mid-way.
            if submission.registration == nil {
                do {
                    let statements =
                        [PostgresOperationRecords.insertStatement(operation, encoded: encoded, unfinishedBelow: submission.maxUnfinished, refusing: true)]
                        + PostgresJobRecords.markDueStatements(job, at: operation.createdAt, refusing: true)
                        + (submission.inboundKey.map { [PostgresInboundRecords.attachStatement(operation.id, to: $0)] } ?? [])
                    return try await pipelinedTransaction(statements) { results in
                        let becameDue = PostgresJobRecords.markedDue(Array(results[1...3])) ?? true
                        return (.accepted, notices: becameDue ? [.jobDue(job)] : [])
                    }
                } catch let refusal as PostgresError where refusal.sqlState == PostgresSchema.Refusal.queueFull {
                    throw QueueBoundReached()
                } catch let refusal as PostgresError where refusal.sqlState == PostgresSchema.Refusal.jobVanished {
                    // A purge raced the submit (rolled back): the general path below retries the job's row.
                }
            }
            return try await transaction { db, notices -> SubmitOutcome in
                let inbound = submission.inboundKey
                if let registration = submission.registration,
                    let existing = try await PostgresMerchantRecords.bind(
                        externalAccountId: registration.externalAccountId, operationId: operation.id, name: registration.name,
                        now: operation.createdAt, in: db)
                {
                    if let inbound { try await PostgresInboundRecords.attachOperation(existing, to: inbound, in: db) }
                    guard let document = try await PostgresOperationRecords.document(existing, in: db) else {
                        throw StoreInconsistency(description: "the operation \(existing) registering \(registration.externalAccountId) is missing")
                    }
                    return .alreadyRegistering(document)
                }
                // The bound is read without a lock: concurrent submits may each see room for themselves.
                guard try await PostgresOperationRecords.insert(operation, encoded: encoded, unfinishedBelow: submission.maxUnfinished, in: db) else {
                    throw QueueBoundReached()
                }
                try await PostgresJobRecords.markDue(job, at: operation.createdAt, in: db)
                if let inbound { try await PostgresInboundRecords.attachOperation(operation.id, to: inbound, in: db) }
                notices.append(.jobDue(job))
                return .accepted
            }
        } catch is QueueBoundReached {
            return .queueFull(limit: submission.maxUnfinished)
        }
    }

    func operation(_ id: String) async throws -> StoredOperation? {
        try await read { db in try await PostgresOperationRecords.load(id, in: db) }
    }

    func operations(_ ids: [String]) async throws -> [StoredOperation] {
        try await read { db in try await PostgresOperationRecords.load(ids: ids, in: db) }
    }

    func queued(merchantId: String, resource: String, limit: Int) async throws -> [StoredOperation] {
        try await read { db in try await PostgresOperationRecords.queued(ClaimedJobKey(merchantId: merchantId, resource: resource), limit: limit, in: db) }
    }

    func unfinished(merchantId: String, resource: String, createdAtOrBefore cutoff: Int64) async throws -> [StoredOperation] {
        try await read { db in
            try await PostgresOperationRecords.unfinished(ClaimedJobKey(merchantId: merchantId, resource: resource), createdAtOrBefore: cutoff, in: db)
        }
    }

    func trace(merchantId: String, resource: String) async throws -> TraceRecord? {
        try await read { db in try await PostgresOperationRecords.trace(ClaimedJobKey(merchantId: merchantId, resource: resource), in: db) }
    }

    func calls(of operationId: String) async throws -> [UpstreamCall] {
        try await read { db in try await PostgresOperationRecords.calls(of: operationId, in: db) }
    }

    func document(_ id: String) async throws -> Operation? {
        try await read { db in try await PostgresOperationRecords.document(id, in: db) }
    }

    func list(_ query: OperationQuery) async throws -> [Operation] {
        try await read { db in
            var documents: [Operation] = []
            for operation in try await PostgresOperationRecords.list(query, in: db) {
                documents.append(operation.document(upstream: try await PostgresOperationRecords.calls(of: operation.id, in: db)))
            }
            return documents
        }
    }

    // MARK: Jobs and leases

    /// Ends nothing on PostgreSQL, and answers 0: the database is shared, so a lease not held by
    /// `owner` may be a live replica's, and ending it would let two replicas run one job. A dead
    /// replica's leases end by expiry (`claimJobs` takes a job whose lease has passed).
    func releaseForeignLeases(owner: String) async throws -> Int { 0 }

    func hasClaimableJobs(now: Int64, excluding busy: Set<ClaimedJobKey>) async throws -> Bool {
        try await read { db in try await PostgresJobRecords.hasClaimable(now: now, excluding: busy, in: db) }
    }

    func claimJobs(owner: String, now: Int64, leaseUntil: Int64, limit: Int, excluding busy: Set<ClaimedJobKey>) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        // One statement, its own transaction: one round trip instead of three with BEGIN and COMMIT.
        let claimed = try await pool.withConnection { db in
            try await PostgresJobRecords.claim(owner: owner, now: now, leaseUntil: leaseUntil, limit: limit, excluding: busy, in: db)
        }
        leases.withLock { leases in
            for (job, epoch) in claimed { leases[ClaimedJobKey(job)] = JobLease(owner: owner, epoch: epoch) }
        }
        return claimed.map(\.job)
    }

    func nextJobDue() async throws -> Int64? {
        try await read { db in try await PostgresJobRecords.nextDue(in: db) }
    }

    /// Throws `LeaseLost` when `owner` no longer holds the job (another claim took it).
    func renew(_ job: ClaimedJob, owner: String, leaseUntil: Int64, calls: [LoggedCall]) async throws {
        let key = ClaimedJobKey(job)
        let epoch = lease(of: key).flatMap { $0.owner == owner ? $0.epoch : nil }
        try await write(for: nil, calls: calls) { db in
            guard try await PostgresJobRecords.renew(key, owner: owner, epoch: epoch, leaseUntil: leaseUntil, in: db) else {
                throw LeaseLost(job: key, owner: owner)
            }
        }
    }

    func release(_ job: ClaimedJob, _ release: JobRelease, calls: [LoggedCall]) async throws {
        let key = ClaimedJobKey(job)
        switch release {
        case .idle(let now):
            try await write(for: nil, calls: calls) { db in
                // After every submit in flight on the job: work that arrived while it ran is due at once.
                let current = try await PostgresJobRecords.lockForRelease(key, in: db)
                if let held = lease(of: key), current != held { throw LeaseLost(job: key, owner: held.owner) }
                let queued = try await PostgresJobRecords.hasQueued(key, in: db)
                let more = queued ? true : try await PostgresJobRecords.pendingWrite(key, in: db) != nil
                try await PostgresJobRecords.release(key, dueAt: more ? now : nil, attempts: 0, in: db)
            }
        case .retry(let dueAt, let attempts, let expired, let deletePendingWrite, let now):
            let endings = EncodedEndings(expired)
            try await write(for: key, calls: calls) { db, notices in
                try await PostgresEndings.finish(endings, now: now, in: db, notices: notices)
                if deletePendingWrite { try await PostgresJobRecords.deletePendingWrite(key, in: db) }
                try await PostgresJobRecords.release(key, dueAt: dueAt, attempts: attempts, in: db)
            }
        }
        forgetLease(of: key)
    }

    func releaseAll(owner: String) async throws {
        try await transaction { db, _ in try await PostgresJobRecords.releaseAll(owner: owner, in: db) }
        leases.withLock { leases in leases = leases.filter { $0.value.owner != owner } }
    }

    // MARK: A job run's writes

    func pendingWrite(merchantId: String, resource: String) async throws -> PendingWrite? {
        try await read { db in try await PostgresJobRecords.pendingWrite(ClaimedJobKey(merchantId: merchantId, resource: resource), in: db) }
    }

    func begin(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws {
        try await self.write(for: ClaimedJobKey(merchantId: write.merchantId, resource: write.resource), calls: calls) { db in
            try await PostgresJobRecords.insertPendingWrite(write, in: db)
            try await PostgresOperationRecords.markRunning(write.operationIds, now: now, in: db)
        }
    }

    func abandon(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws {
        let job = ClaimedJobKey(merchantId: write.merchantId, resource: write.resource)
        try await self.write(for: job, calls: calls) { db in
            try await PostgresJobRecords.deletePendingWrite(job, in: db)
            try await PostgresOperationRecords.requeue(write.operationIds, now: now, in: db)
        }
    }

    func deletePendingWrite(merchantId: String, resource: String, calls: [LoggedCall]) async throws {
        let job = ClaimedJobKey(merchantId: merchantId, resource: resource)
        try await write(for: job, calls: calls) { db in try await PostgresJobRecords.deletePendingWrite(job, in: db) }
    }

    func countAttempt(_ operationIds: [String], now: Int64, calls: [LoggedCall]) async throws {
        try await transaction { db, _ in
            // The operations of one write belong to one job: the first names it.
            if let first = operationIds.first, let job = try await PostgresOperationRecords.job(of: first, in: db) {
                try await holdLease(of: job, in: db)
            }
            try await appendCalls(calls, in: db)
            try await PostgresOperationRecords.countAttempt(operationIds, now: now, in: db)
        }
    }

    func setUpstreamOperation(_ upstreamId: String, merchantId: String, resource: String, calls: [LoggedCall]) async throws {
        let job = ClaimedJobKey(merchantId: merchantId, resource: resource)
        try await write(for: job, calls: calls) { db in try await PostgresJobRecords.setUpstreamOperation(upstreamId, of: job, in: db) }
    }

    func recordRegistration(_ registration: RegistrationAnswer, now: Int64, calls: [LoggedCall]) async throws {
        try await write(for: nil, calls: calls) { db, notices in
            try await PostgresMerchantRecords.setAccount(registration.accountId, externalAccountId: registration.externalAccountId, in: db)
            try await PostgresOperationRecords.setMerchant(registration.accountId, of: registration.operationId, in: db)
            if let event = registration.event { _ = try await PostgresWebhookRecords.record(event, at: now, in: db, notices: notices) }
        }
    }

    func finish(_ endings: [OperationFinish], deletePendingWriteOf job: ClaimedJobKey?, now: Int64, calls: [LoggedCall]) async throws {
        let prepared = EncodedEndings(endings)
        try await write(for: job, calls: calls) { db, notices in
            try await PostgresEndings.finish(prepared, now: now, in: db, notices: notices)
            if let job { try await PostgresJobRecords.deletePendingWrite(job, in: db) }
        }
    }

    // MARK: Leases and fenced writes

    func lease(of job: ClaimedJobKey) -> JobLease? { leases.withLock { $0[job] } }

    private func forgetLease(of job: ClaimedJobKey) { _ = leases.withLock { $0.removeValue(forKey: job) } }

    /// Fencing: when this instance claimed `job`, holds its row for the transaction if that claim's
    /// lease is still the job's lease, else throws `LeaseLost`. A lost lease stays remembered until
    /// this instance claims the job again or releases it, so every later write of the stale run
    /// (its release included) is refused too. A job this instance holds no lease of (an operator's
    /// command, a test) is written unfenced.
    private func holdLease(of job: ClaimedJobKey, in db: PostgresConnection) async throws {
        guard let held = lease(of: job) else { return }
        guard try await PostgresJobRecords.holdLease(job, held, in: db) else { throw LeaseLost(job: job, owner: held.owner) }
    }

    /// A transaction of a job run: fenced on `job` (when given), then the calls the run logged
    /// since its previous write, then `body`.
    private func write(
        for job: ClaimedJobKey?, calls: [LoggedCall], _ body: (PostgresConnection, PostgresCommitNotices) async throws -> Void
    ) async throws {
        try await transaction { db, notices in
            if let job { try await holdLease(of: job, in: db) }
            try await appendCalls(calls, in: db)
            try await body(db, notices)
        }
    }

    private func write(for job: ClaimedJobKey?, calls: [LoggedCall], _ body: (PostgresConnection) async throws -> Void) async throws {
        try await write(for: job, calls: calls) { db, _ in try await body(db) }
    }

    private func appendCalls(_ calls: [LoggedCall], in db: PostgresConnection) async throws {
        for logged in calls { try await PostgresOperationRecords.appendCall(OperationRecords.json(logged.call), to: logged.operationIds, in: db) }
    }
}
