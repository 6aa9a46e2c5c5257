import HTTP
import JSON
import Rokt

/// Runs a controls job: GET the full state → merge every queued change → PUT the full state
/// with its contentHash (one PUT for many callers) → on 409 re-read and re-merge with a new key.
///
/// Each operation still ends on its own: a replacement on a stale hash fails alone; a batch
/// Rokt rejects with 400 is split so one unmapped vertical does not fail the changes merged with it.
struct ControlsReconciler: Sendable {
    /// Stored with the pending write: what each operation changes, and the state the PUT asks for.
    struct Plan: Codable, Sendable {
        var changed: [String: Bool]
        var desired: MarketplaceControls
    }

    let context: EngineContext

    func run(_ job: ClaimedJob) async -> JobOutcome {
        // Bounded rounds so one busy merchant cannot hold a worker forever; the release re-checks the queue.
        for round in 0..<16 {
            do {
                if let pending = try await context.pendingWrite(for: job) {
                    let started = ContinuousClock.now
                    let outcome = try await resume(pending, job: job)
                    context.observeRound(ContinuousClock.now - started)
                    if let outcome { return outcome }
                    continue
                }
                let limit = context.configuration.maxBatch
                var operations = try await context.queued(for: job, limit: limit)
                if operations.isEmpty { return .idle }
                let window = context.configuration.coalescingWindow
                if round > 0, (operations.count < limit), (window > .zero) {
                    // Work kept arriving while the last write ran: let the stream gather into this one.
                    try await Task.sleep(for: window)
                    operations = try await context.queued(for: job, limit: limit)
                }
                let started = ContinuousClock.now
                let outcome = try await reconcile(operations, job: job, attempts: job.attempts)
                context.observeRound(ContinuousClock.now - started)
                if let outcome { return outcome }
            } catch {
                return .retry(after: context.retryDelay(attempts: job.attempts + 1, retryAfter: nil))
            }
        }
        return .idle
    }

    /// One read-modify-write for `operations`; nil when they all ended, an outcome to hand back otherwise.
    func reconcile(_ operations: [StoredOperation], job: ClaimedJob, attempts: Int, splitOnRejection: Bool = true) async throws -> JobOutcome? {
        var remaining = operations
        var conflicts = 0
        while !remaining.isEmpty {
            try await context.renew(job)
            let ids = remaining.map(\.id)
            let read = await context.rokt.getControls(job.merchantId)
            try await context.log(read.call, for: ids)
            let state: MarketplaceControls
            switch read.result {
            case .success(let value):
                state = value
            case .failure(let error) where error.isRetryable:
                return .retry(after: context.retryDelay(attempts: attempts + 1, retryAfter: error.retryAfter))
            case .failure(let error):
                try await context.finish(remaining.map { .failure($0, .upstream(error)) }, job: job, deletePendingWrite: false)
                return nil
            }

            let changes = remaining.map { operation -> ControlsChange in
                if case .controls(let change) = operation.intent { return change }
                return .batch(ControlsBatch())
            }
            let (outcomes, desired) = ControlsMerge.apply(changes, to: state)
            var endings: [OperationEnding] = []
            var writing: [StoredOperation] = []
            var changed: [String: Bool] = [:]
            for (operation, outcome) in zip(remaining, outcomes) {
                switch outcome {
                case .conflict(let expected, let actual, let viaIfMatch):
                    endings.append(.failure(operation, Problem(
                        status: viaIfMatch ? 412 : 409, code: "stale_content_hash",
                        detail: "The controls changed since contentHash \(expected) was read\(actual.map { " (now \($0))" } ?? ""); read them again and re-apply.",
                        context: .object(["expected": .string(expected), "actual": actual.map(JSONValue.string) ?? .null]))))
                case .applied(let didChange):
                    writing.append(operation)
                    changed[operation.id] = didChange
                }
            }
            guard !desired.sameBlocks(as: state) else {
                // Nothing to change: done without a PUT.
                let result = ControlsDocument(state).encoded
                endings += writing.map { .success($0, changed: false, result: result) }
                try await context.finish(endings, job: job, deletePendingWrite: false)
                return nil
            }
            if !endings.isEmpty { try await context.finish(endings, job: job, deletePendingWrite: false) }

            var body = desired
            body.contentHash = state.contentHash
            let plan = Plan(changed: changed, desired: desired)
            let write = PendingWrite(
                merchantId: job.merchantId, resource: job.resource, operationIds: writing.map(\.id), plan: JSON.encode(plan),
                method: "PUT", path: RoktPath.controls(job.merchantId), body: RoktJSON.encode(body),
                idempotencyKey: Identifiers.idempotencyKey(), createdAt: context.now, upstreamOperationId: nil)
            // The key is durable before the request that carries it leaves.
            try await context.begin(write)
            switch await complete(write, plan: plan, job: job, attempts: attempts, splitOnRejection: splitOnRejection, operations: writing) {
            case .done:
                return nil
            case .handBack(let outcome):
                return outcome
            case .conflict:
                conflicts += 1
                remaining = writing
                if conflicts > context.configuration.maxConflictRetries {
                    let problem = Problem(status: 409, code: "conflict_retries_exhausted",
                                          detail: "Rokt's controls kept changing under us (\(conflicts) conflicts in a row); nothing was overwritten. Retry later.")
                    try await context.finish(remaining.map { .failure($0, problem) }, job: job, deletePendingWrite: false)
                    return nil
                }
            }
        }
        return nil
    }

    private enum WriteStep { case done, handBack(JobOutcome), conflict }

    /// A pending write found at the start of a run: a retry, a poll, or (past the key's age) a fresh start.
    private func resume(_ write: PendingWrite, job: ClaimedJob) async throws -> JobOutcome? {
        let plan = try JSON.decode(Plan.self, from: write.plan)
        let operations = try await context.operations(write.operationIds)
        if context.now - write.createdAt > context.configuration.keyMaxAge.milliseconds {
            // Rokt forgets keys after 24 h: re-sending could apply it twice. Re-read and start over.
            try await context.abandon(write)
            return nil
        }
        let live = operations.filter { !$0.state.isTerminal }
        guard !live.isEmpty else {
            try await context.dropPendingWrite(of: job)
            return nil
        }
        try await context.renew(job)
        try await context.countAttempt(write.operationIds)
        switch await complete(write, plan: plan, job: job, attempts: job.attempts, splitOnRejection: true, operations: live) {
        case .done: return nil
        case .handBack(let outcome): return outcome
        case .conflict:
            // Our hash went stale while we were retrying: merge the same operations afresh.
            return try await reconcile(live, job: job, attempts: job.attempts)
        }
    }

    /// Sends the write and settles its operations according to Rokt's answer.
    private func complete(_ write: PendingWrite, plan: Plan, job: ClaimedJob, attempts: Int, splitOnRejection: Bool,
                          operations: [StoredOperation]) async -> WriteStep {
        let result = await UpstreamWriter(context: context).send(write)
        do {
            switch result {
            case .succeeded(let response):
                var after = (try? response?.decode(MarketplaceControls.self)) ?? nil
                if after == nil {
                    // Polled to completion (or an empty body): read the state it produced.
                    let read = await context.rokt.getControls(job.merchantId)
                    try await context.log(read.call, for: write.operationIds)
                    after = try? read.result.get()
                }
                let document = ControlsDocument(after ?? plan.desired).encoded
                try await context.finish(operations.map { .success($0, changed: plan.changed[$0.id] ?? true, result: document) },
                                         job: job, deletePendingWrite: true)
                return .done
            case .stillPending:
                return .handBack(.retry(after: context.configuration.maxPollInterval))
            case .failed(let error) where error.isConflict:
                try await context.abandon(write)
                return .conflict
            case .failed(let error) where error.isRetryable:
                return .handBack(.retry(after: context.retryDelay(attempts: attempts + 1, retryAfter: error.retryAfter)))
            case .failed(let error) where error.status == 400 && splitOnRejection && operations.count > 1:
                // Some change in the batch is invalid (an unmapped vertical…): bisect, so the valid ones
                // are applied and only the bad ones fail, in about 2·log2(n) writes per bad change.
                try await context.abandon(write)
                let middle = operations.count / 2
                for half in [Array(operations[..<middle]), Array(operations[middle...])] {
                    if let outcome = try await reconcile(half, job: job, attempts: attempts, splitOnRejection: half.count > 1) {
                        return .handBack(outcome)
                    }
                }
                return .done
            case .failed(let error):
                try await context.finish(operations.map { .failure($0, .upstream(error)) }, job: job, deletePendingWrite: true)
                return .done
            }
        } catch {
            return .handBack(.retry(after: context.retryDelay(attempts: attempts + 1, retryAfter: nil)))
        }
    }
}

/// The plan travels through the pending write on every round: built by hand, not by JSONEncoder.
extension ControlsReconciler.Plan: JSONValueRepresentable {
    init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "plan")
        var changed: [String: Bool] = [:]
        for (id, value) in try members.required("changed", \.objectValue) {
            guard case .bool(let flag) = value else { throw JSONShapeError("changed.\(id): expected a boolean") }
            changed[id] = flag
        }
        self.changed = changed
        desired = try MarketplaceControls(json: members["desired"] ?? .null)
    }

    var jsonValue: JSONValue {
        .object(["changed": .object(changed.mapValues(JSONValue.bool)), "desired": desired.jsonValue])
    }
}
