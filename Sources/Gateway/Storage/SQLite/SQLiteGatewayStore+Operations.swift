import HTTP
import Rokt
import Store

/// A store invariant found broken (a row another row promises is missing).
struct StoreInconsistency: Error, CustomStringConvertible {
    let description: String
}

/// `OperationStore` over `operations`, `jobs`, `pending_writes`, the call log and `merchants`.
extension SQLiteGatewayStore {
    /// Thrown inside the submit transaction to roll it back when the queue is full.
    private struct QueueBoundReached: Error {}

    func submit(_ submission: Submission) async throws -> SubmitOutcome {
        let operation = submission.operation
        // Encoded before the write, so the single writer thread only writes.
        let encoded = OperationRecords.Encoded(operation)
        do {
            return try await database.write { db -> SubmitOutcome in
                let inbound = submission.inboundKey
                if let registration = submission.registration,
                    let existing = try MerchantRecords.liveRegistration(externalAccountId: registration.externalAccountId, in: db)
                {
                    if let inbound { try InboundRecords.attachOperation(existing, apiKeyId: inbound.apiKeyId, key: inbound.key, in: db) }
                    guard let document = try OperationRecords.document(existing, in: db) else {
                        throw StoreInconsistency(description: "the operation \(existing) registering \(registration.externalAccountId) is missing")
                    }
                    return .alreadyRegistering(document)
                }
                try OperationRecords.insert(operation, encoded: encoded, in: db)
                try JobRecords.markDue(merchantId: operation.merchantId, resource: operation.resource, at: operation.createdAt, in: db)
                if let registration = submission.registration {
                    try MerchantRecords.bind(
                        externalAccountId: registration.externalAccountId, operationId: operation.id,
                        name: registration.name, now: operation.createdAt, in: db)
                }
                if let inbound { try InboundRecords.attachOperation(operation.id, apiKeyId: inbound.apiKeyId, key: inbound.key, in: db) }
                // Decided from the maintained counts (two rows, this operation included).
                guard try GaugeRecords.unfinishedOperations(in: db) <= submission.maxUnfinished else { throw QueueBoundReached() }
                let job = ClaimedJobKey(merchantId: operation.merchantId, resource: operation.resource)
                db.publishAfterCommit(.jobDue(job))
                return .accepted
            }
        } catch is QueueBoundReached {
            return .queueFull(limit: submission.maxUnfinished)
        }
    }

    func operation(_ id: String) async throws -> StoredOperation? {
        try await database.read { db in try OperationRecords.load(id, in: db) }
    }

    func operations(_ ids: [String]) async throws -> [StoredOperation] {
        try await database.read { db in try OperationRecords.load(ids: ids, in: db) }
    }

    func queued(merchantId: String, resource: String, limit: Int) async throws -> [StoredOperation] {
        try await database.read { db in try OperationRecords.queued(merchantId: merchantId, resource: resource, limit: limit, in: db) }
    }

    func unfinished(merchantId: String, resource: String, createdAtOrBefore cutoff: Int64) async throws -> [StoredOperation] {
        try await database.read { db in
            try OperationRecords.unfinished(merchantId: merchantId, resource: resource, createdAtOrBefore: cutoff, in: db)
        }
    }

    func trace(merchantId: String, resource: String) async throws -> TraceRecord? {
        try await database.read { db in try OperationRecords.trace(merchantId: merchantId, resource: resource, in: db) }
    }

    func calls(of operationId: String) async throws -> [UpstreamCall] {
        try await database.read { db in try OperationRecords.calls(of: operationId, in: db) }
    }

    func document(_ id: String) async throws -> Operation? {
        try await database.read { db in try OperationRecords.document(id, in: db) }
    }

    func list(_ query: OperationQuery) async throws -> [Operation] {
        try await database.read { db in
            try OperationRecords.list(query, in: db).map { $0.document(upstream: try OperationRecords.calls(of: $0.id, in: db)) }
        }
    }

    // MARK: Jobs and leases

    func releaseForeignLeases(owner: String) async throws -> Int {
        try await database.write { db in try JobRecords.releaseForeignLeases(owner: owner, in: db) }
    }

    func hasClaimableJobs(now: Int64, excluding busy: Set<ClaimedJobKey>) async throws -> Bool {
        try await database.read { db in try JobRecords.hasClaimable(now: now, excluding: busy, in: db) }
    }

    func claimJobs(owner: String, now: Int64, leaseUntil: Int64, limit: Int, excluding busy: Set<ClaimedJobKey>) async throws -> [ClaimedJob] {
        try await database.write { db in
            try JobRecords.claim(owner: owner, now: now, leaseUntil: leaseUntil, limit: limit, excluding: busy, in: db)
        }
    }

    func nextJobDue() async throws -> Int64? {
        try await database.read { db in try JobRecords.nextDue(in: db) }
    }

    func renew(_ job: ClaimedJob, owner: String, leaseUntil: Int64, calls: [LoggedCall]) async throws {
        try await write(calls: calls) { db in try JobRecords.renew(job, owner: owner, leaseUntil: leaseUntil, in: db) }
    }

    func release(_ job: ClaimedJob, _ release: JobRelease, calls: [LoggedCall]) async throws {
        switch release {
        case .idle(let now):
            try await write(calls: calls) { db in
                // Work that arrived while the job ran is due at once; otherwise the job sleeps.
                let more =
                    try OperationRecords.hasQueued(merchantId: job.merchantId, resource: job.resource, in: db)
                    || JobRecords.pendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) != nil
                try JobRecords.release(job, dueAt: more ? now : nil, attempts: 0, in: db)
            }
        case .retry(let dueAt, let attempts, let expired, let deletePendingWrite, let now):
            let endings = EncodedEndings(expired)
            try await write(calls: calls) { db in
                try Self.finish(endings, now: now, in: db)
                if deletePendingWrite { try JobRecords.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) }
                try JobRecords.release(job, dueAt: dueAt, attempts: attempts, in: db)
            }
        }
    }

    func releaseAll(owner: String) async throws {
        try await database.write { db in try JobRecords.releaseAll(owner: owner, in: db) }
    }

    // MARK: A job run's writes

    func pendingWrite(merchantId: String, resource: String) async throws -> PendingWrite? {
        try await database.read { db in try JobRecords.pendingWrite(merchantId: merchantId, resource: resource, in: db) }
    }

    func begin(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws {
        try await self.write(calls: calls) { db in
            try JobRecords.insertPendingWrite(write, in: db)
            try OperationRecords.markRunning(write.operationIds, now: now, in: db)
        }
    }

    func abandon(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws {
        try await self.write(calls: calls) { db in
            try JobRecords.deletePendingWrite(merchantId: write.merchantId, resource: write.resource, in: db)
            try OperationRecords.requeue(write.operationIds, now: now, in: db)
        }
    }

    func deletePendingWrite(merchantId: String, resource: String, calls: [LoggedCall]) async throws {
        try await write(calls: calls) { db in try JobRecords.deletePendingWrite(merchantId: merchantId, resource: resource, in: db) }
    }

    func countAttempt(_ operationIds: [String], now: Int64, calls: [LoggedCall]) async throws {
        try await write(calls: calls) { db in try OperationRecords.countAttempt(operationIds, now: now, in: db) }
    }

    func setUpstreamOperation(_ upstreamId: String, merchantId: String, resource: String, calls: [LoggedCall]) async throws {
        try await write(calls: calls) { db in
            try JobRecords.setUpstreamOperation(upstreamId, merchantId: merchantId, resource: resource, in: db)
        }
    }

    func recordRegistration(_ registration: RegistrationAnswer, now: Int64, calls: [LoggedCall]) async throws {
        try await write(calls: calls) { db in
            try MerchantRecords.setAccount(registration.accountId, externalAccountId: registration.externalAccountId, in: db)
            try OperationRecords.setMerchant(registration.accountId, of: registration.operationId, in: db)
            if let event = registration.event { try WebhookRecords.record(event, at: now, in: db) }
        }
    }

    func finish(_ endings: [OperationFinish], deletePendingWriteOf job: ClaimedJobKey?, now: Int64, calls: [LoggedCall]) async throws {
        let prepared = EncodedEndings(endings)
        try await write(calls: calls) { db in
            try Self.finish(prepared, now: now, in: db)
            if let job { try JobRecords.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) }
        }
    }

    // MARK: Internals

    /// A write that first stores the calls a job run logged since its previous write.
    private func write<T: Sendable>(calls: [LoggedCall], _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let encoded = calls.map { (call: OperationRecords.json($0.call), ids: $0.operationIds) }
        return try await database.write { db in
            for logged in encoded { try OperationRecords.appendCall(logged.call, to: logged.ids, in: db) }
            return try body(db)
        }
    }

    /// Ends operations: the terminal state is never overwritten, and an ending's redaction and
    /// events are recorded only by the call that ends it.
    private static func finish(_ endings: EncodedEndings, now: Int64, in db: SQLiteConnection) throws {
        guard !endings.rows.isEmpty else { return }
        let resultIds = try endings.results.map { try OperationRecords.insertResult($0, in: db) }
        // Most gateways have no endpoint: their endings build and record no event.
        let recordsEvents = try WebhookRecords.anyEnabledEndpoint(in: db)
        for row in endings.rows {
            guard
                try OperationRecords.finish(
                    row.id, succeeded: row.succeeded, changed: row.changed, resultId: row.result.map { resultIds[$0] },
                    error: row.error, now: now, in: db)
            else { continue }
            if let redacted = row.redactedIntent { try OperationRecords.redactPrivacyRequest(row.id, redacted: redacted, in: db) }
            if recordsEvents { for event in row.events() { try WebhookRecords.record(event, at: now, in: db) } }
        }
        let ids = endings.rows.map(\.id)
        db.publishAfterCommit(.operationsEnded(ids))
    }
}
