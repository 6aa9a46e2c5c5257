import HTTP
import JSON
import Rokt

/// Runs a single-write job, one operation at a time in FIFO order: commit a `PendingWrite`
/// with a fresh key → send it (following `X-Operation-Id` by polling) → on 5xx, 429, timeout or
/// a dropped connection hand back `.retry`, so the same bytes go out later under the same key
/// (after a restart too); on another 4xx fail the operation with Rokt's message; on success
/// store Rokt's answer as the result.
struct SingleWriteReconciler: Sendable {
    /// Stored with the pending write.
    struct Plan: Codable, Sendable {
        var kind: SingleWrite.Kind
    }

    let context: EngineContext

    static func handles(_ resource: String) -> Bool { resource.hasPrefix(SingleWrite.resourcePrefix) }

    func run(_ job: ClaimedJob) async -> JobOutcome {
        // Bounded rounds so one busy lane cannot hold a worker forever; the release re-checks the queue.
        for _ in 0..<16 {
            do {
                if let pending = try await context.pendingWrite(for: job) {
                    if let outcome = try await resume(pending, job: job) { return outcome }
                    continue
                }
                guard let operation = try await context.queued(for: job, limit: 1).first else { return .idle }
                guard case .single(let write) = operation.intent else {
                    let problem = Problem(status: 500, code: "internal_error", detail: "The operation cannot be run by this gateway version.")
                    try await context.finish([.failure(operation, problem)], job: job, deletePendingWrite: false)
                    continue
                }
                try await context.renew(job)
                let pending = PendingWrite(
                    merchantId: job.merchantId, resource: job.resource, operationIds: [operation.id], plan: JSON.encode(Plan(kind: write.kind)),
                    method: write.method, path: write.path, body: write.encodedBody, idempotencyKey: Identifiers.idempotencyKey(),
                    createdAt: context.now, upstreamOperationId: nil)
                // The key is durable before the request that carries it leaves.
                try await context.begin(pending)
                if let outcome = try await send(pending, operation: operation, job: job) { return outcome }
            } catch {
                return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: nil))
            }
        }
        return .idle
    }

    /// A pending write found at the start of a run: re-sent with its stored key. Past the key's
    /// age (when Rokt may forget it), a write that can be read back is dropped and started over;
    /// one that cannot ends `outcome_unknown`, never re-sent under a new key.
    private func resume(_ pending: PendingWrite, job: ClaimedJob) async throws -> JobOutcome? {
        guard let operation = try await context.operation(pending.operationIds[0]), !operation.state.isTerminal else {
            try await context.dropPendingWrite(of: job)
            return nil
        }
        let now = context.now
        // Following Rokt's operation id is a read: safe at any age.
        if pending.upstreamOperationId == nil, now - pending.createdAt > context.configuration.keyMaxAge.milliseconds {
            if operation.intentKind?.hasReadBack == false {
                let calls = try await context.calls(of: operation.id)
                try await context.finish([.failure(operation, OutcomeUnknown.problem(for: pending, calls: calls))], job: job,
                                         deletePendingWrite: true)
                return nil
            }
            try await context.abandon(pending)
            return nil
        }
        try await context.renew(job)
        try await context.countAttempt(pending.operationIds)
        return try await send(pending, operation: operation, job: job)
    }

    private func send(_ pending: PendingWrite, operation: StoredOperation, job: ClaimedJob) async throws -> JobOutcome? {
        switch await UpstreamWriter(context: context).send(pending) {
        case .stillPending:
            return .retry(after: context.configuration.maxPollInterval)
        case .failed(let error) where error.isRetryable:
            return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: error.retryAfter))
        case .failed(let error):
            try await context.finish([.failure(operation, .upstream(error))], job: job, deletePendingWrite: true)
            return nil
        case .succeeded(let response):
            let answered = try await answer(response, pending: pending, job: job)
            // Rokt's account in the gateway's spelling, whatever the shape it came in.
            let result = operation.intentKind == .register ? RoktAccount.registered(answered) ?? answered : answered
            // Register: a new account is 201; 200 means Rokt already had this externalAccountId.
            let changed = response.map { $0.status != 200 || operation.intentKind != .register } ?? true
            if operation.intentKind == .register, let accountId = result["accountId"]?.stringValue,
               case .single(let write) = operation.intent, let external = write.body?["external_account_id"]?.stringValue {
                // A merchant Rokt already had is not newly registered.
                try await context.recordRegistration(of: operation, accountId: accountId, externalAccountId: external, merchant: result,
                                                     isNew: changed)
            }
            try await context.finish([.success(operation, changed: changed, result: result.serialized)], job: job, deletePendingWrite: true)
            return nil
        }
    }

    /// Rokt's answer to the write: the response's data, or, for a write Rokt finished
    /// asynchronously, the result its operation reports.
    private func answer(_ response: RoktResponse?, pending: PendingWrite, job: ClaimedJob) async throws -> JSONValue {
        if let response, let data = try? response.decode(JSONValue.self), data != .null { return data }
        let stored = try await context.pendingWrite(for: job)
        guard let operationId = stored?.upstreamOperationId else { return .object([:]) }
        let read = await context.rokt.getOperation(operationId)
        try await context.log(read.call, for: pending.operationIds)
        return (try? read.result.get().result) ?? .object([:])
    }
}

extension StoredOperation {
    var intentKind: SingleWrite.Kind? {
        if case .single(let write) = intent { return write.kind }
        return nil
    }
}
