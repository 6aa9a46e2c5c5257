import JSON
import Rokt
import Store

/// Everything a job run reads from or writes to the store. The reconcilers go through these
/// methods only: a run's writes also store the upstream calls it logged since the last one.
extension EngineContext {
    /// The write a run left committed and unanswered for this job, if any.
    func pendingWrite(for job: ClaimedJob) async throws -> PendingWrite? {
        try await database.read { db in try JobRecords.pendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) }
    }

    /// The job's queued operations, oldest first.
    func queued(for job: ClaimedJob, limit: Int) async throws -> [StoredOperation] {
        try await database.read { db in
            try OperationRecords.queued(merchantId: job.merchantId, resource: job.resource, limit: limit, in: db)
        }
    }

    /// The operations with these ids (those that exist), in the order given.
    func operations(_ ids: [String]) async throws -> [StoredOperation] {
        try await database.read { db in try OperationRecords.load(ids: ids, in: db) }
    }

    func operation(_ id: String) async throws -> StoredOperation? {
        try await database.read { db in try OperationRecords.load(id, in: db) }
    }

    /// The upstream calls logged for an operation so far (the stored ones).
    func calls(of id: String) async throws -> [UpstreamCall] {
        try await database.read { db in try OperationRecords.calls(of: id, in: db) }
    }

    /// Commits a write before it is sent (its key is durable first) and marks its operations running.
    func begin(_ write: PendingWrite) async throws {
        let now = self.now
        try await self.write { db in
            try JobRecords.insertPendingWrite(write, in: db)
            try OperationRecords.markRunning(write.operationIds, now: now, in: db)
        }
    }

    /// Drops a pending write whose key must not be reused; its operations go back in line.
    func abandon(_ write: PendingWrite) async throws {
        let now = self.now
        try await self.write { db in
            try JobRecords.deletePendingWrite(merchantId: write.merchantId, resource: write.resource, in: db)
            try OperationRecords.requeue(write.operationIds, now: now, in: db)
        }
    }

    /// Drops the job's pending write (its operations have ended).
    func dropPendingWrite(of job: ClaimedJob) async throws {
        try await write { db in try JobRecords.deletePendingWrite(merchantId: job.merchantId, resource: job.resource, in: db) }
    }

    /// One more attempt of a write being re-sent, for the operations' `attempts`.
    func countAttempt(_ ids: [String]) async throws {
        let now = self.now
        try await write { db in try OperationRecords.countAttempt(ids, now: now, in: db) }
    }

    /// Rokt answered 202 with an operation id: polling resumes from it after a restart.
    func setUpstreamOperation(_ upstreamId: String, for write: PendingWrite) async throws {
        try await self.write { db in
            try JobRecords.setUpstreamOperation(upstreamId, merchantId: write.merchantId, resource: write.resource, in: db)
        }
    }

    /// A register Rokt answered: the merchant row learns its account id and the operation moves
    /// under it, before the operation ends (its waiters see it under the new merchant); a new
    /// account also records `merchant.registered` in the same transaction.
    func recordRegistration(of operation: StoredOperation, accountId: String, externalAccountId: String, merchant: JSONValue,
                            isNew: Bool) async throws {
        let now = self.now
        let operationId = operation.id
        try await write { db in
            try MerchantRecords.setAccount(accountId, externalAccountId: externalAccountId, in: db)
            try db.run("UPDATE operations SET merchant_id = ? WHERE id = ?", [accountId, operationId])
            if isNew {
                _ = try WebhookOutbox.enqueue(type: .merchantRegistered, merchantId: accountId,
                                              data: ["merchant": merchant, "operationId": .string(operationId)], at: now, in: db)
            }
        }
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
}
