import HTTP
import JSON
import Rokt

/// Runs a status job, one operation at a time: GET (no PUT when already there) → PUT the
/// switch → GET again to check the cascade. `mixed` right after our own PUT is a failed
/// cascade: re-issued with a fresh key a bounded number of times, then the operation fails
/// with `cascade_incomplete`, naming the stuck variants, the keys and the request ids.
struct StatusReconciler: Sendable {
    struct Plan: Codable, Sendable {
        var desired: PlacementStatus
        /// 1 for the first PUT, 2 for the first re-issue, …
        var attempt: Int
        var keys: [String]
        var requestIds: [String]
    }

    let context: EngineContext

    func run(_ job: ClaimedJob) async -> JobOutcome {
        for _ in 0..<16 {
            do {
                if let pending = try await context.pendingWrite(for: job) {
                    let plan = try JSON.decode(Plan.self, from: pending.plan)
                    try await context.renew(job)
                    guard let operation = try await context.operation(pending.operationIds[0]), !operation.state.isTerminal else {
                        try await context.dropPendingWrite(of: job)
                        continue
                    }
                    if context.now - pending.createdAt > context.configuration.keyMaxAge.milliseconds {
                        // Too old to re-send under the same key: start this operation over from a fresh read.
                        try await context.abandon(pending)
                        continue
                    }
                    if let outcome = try await send(pending, plan: plan, operation: operation, job: job) { return outcome }
                    continue
                }
                guard let operation = try await context.queued(for: job, limit: 1).first else { return .idle }
                try await context.renew(job)
                if let outcome = try await start(operation, job: job) { return outcome }
            } catch {
                return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: nil))
            }
        }
        return .idle
    }

    private func desired(of operation: StoredOperation) -> PlacementStatus {
        if case .status(let status) = operation.intent { return status }
        return .active
    }

    private func start(_ operation: StoredOperation, job: ClaimedJob) async throws -> JobOutcome? {
        let read = await context.rokt.getStatus(job.merchantId)
        try await context.log(read.call, for: [operation.id])
        switch read.result {
        case .failure(let error) where error.isRetryable:
            return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: error.retryAfter))
        case .failure(let error):
            try await context.finish([.failure(operation, .upstream(error))], job: job, deletePendingWrite: false)
            return nil
        case .success(let cascade):
            let target = desired(of: operation)
            if cascade.status.rawValue == target.rawValue {
                try await context.finish([.success(operation, changed: false, result: StatusDocument(cascade).encoded)], job: job, deletePendingWrite: false)
                return nil
            }
            return try await issue(operation, plan: Plan(desired: target, attempt: 1, keys: [], requestIds: []), job: job)
        }
    }

    /// Commits a PUT with a fresh key, then sends it.
    private func issue(_ operation: StoredOperation, plan: Plan, job: ClaimedJob) async throws -> JobOutcome? {
        var plan = plan
        let key = Identifiers.idempotencyKey()
        plan.keys.append(key)
        let write = PendingWrite(
            merchantId: job.merchantId, resource: job.resource, operationIds: [operation.id], plan: JSON.encode(plan), method: "PUT",
            path: RoktPath.status(job.merchantId), body: RoktJSON.encode(StatusChange(status: plan.desired)),
            idempotencyKey: key, createdAt: context.now, upstreamOperationId: nil)
        try await context.begin(write)
        return try await send(write, plan: plan, operation: operation, job: job)
    }

    private func send(_ write: PendingWrite, plan: Plan, operation: StoredOperation, job: ClaimedJob) async throws -> JobOutcome? {
        switch await UpstreamWriter(context: context).send(write) {
        case .stillPending:
            return .retry(after: context.configuration.maxPollInterval)
        case .failed(let error) where error.isRetryable:
            return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: error.retryAfter))
        case .failed(let error):
            try await context.finish([.failure(operation, .upstream(error))], job: job, deletePendingWrite: true)
            return nil
        case .succeeded(let response):
            var plan = plan
            if let requestId = response?.requestId { plan.requestIds.append(requestId) }
            return try await check(operation, plan: plan, job: job)
        }
    }

    /// Reads the cascade our PUT produced: anything but the desired status is a failed cascade.
    private func check(_ operation: StoredOperation, plan: Plan, job: ClaimedJob) async throws -> JobOutcome? {
        let read = await context.rokt.getStatus(job.merchantId)
        try await context.log(read.call, for: [operation.id])
        let cascade: StatusCascade
        switch read.result {
        case .failure(let error) where error.isRetryable:
            // The write is done (its key would replay it); only the check failed: retry the check via the pending write.
            return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: error.retryAfter))
        case .failure(let error):
            try await context.finish([.failure(operation, .upstream(error))], job: job, deletePendingWrite: true)
            return nil
        case .success(let value):
            cascade = value
        }
        if cascade.status.rawValue == plan.desired.rawValue {
            try await context.finish([.success(operation, changed: true, result: StatusDocument(cascade).encoded)], job: job, deletePendingWrite: true)
            return nil
        }
        if plan.attempt <= context.configuration.maxCascadeRetries {
            try await context.dropPendingWrite(of: job)
            var next = plan
            next.attempt += 1
            return try await issue(operation, plan: next, job: job)
        }
        let stuck = cascade.variants(notIn: plan.desired)
        let problem = Problem(
            status: 502, code: "cascade_incomplete",
            detail: "Rokt left \(stuck.count) variant(s) not \(plan.desired.rawValue) after \(plan.attempt) cascade(s); quote the keys and request ids to Rokt support.",
            upstream: Problem.Upstream(status: 200, requestId: plan.requestIds.last, message: "status is \(cascade.status.rawValue)"),
            context: .object([
                "desiredStatus": .string(plan.desired.rawValue),
                "stuckVariants": .array(stuck.map { .object(["pageVariantId": .string($0.pageVariantId), "status": .string($0.status)]) }),
                "idempotencyKeys": .array(plan.keys.map(JSONValue.string)),
                "requestIds": .array(plan.requestIds.map(JSONValue.string)),
            ]))
        try await context.finish([.failure(operation, problem)], job: job, deletePendingWrite: true)
        return nil
    }
}
