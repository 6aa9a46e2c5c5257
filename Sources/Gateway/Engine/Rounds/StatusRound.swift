import JSON
import Rokt

/// The decisions of one status job run, with no I/O (`StatusReconciler` performs them), one
/// operation at a time: GET (no PUT when already there) → PUT the switch → GET again to check the
/// cascade. `mixed` right after our own PUT is a failed cascade: re-issued with a fresh key up to
/// `maxCascadeRetries` times, then the operation fails with `cascade_incomplete`, naming the stuck
/// variants, the keys and the request ids. At most 16 operations per run.
///
/// Every action is answered with exactly one event: `.done` for those that return nothing, and
/// `.failed` whenever the store (or a stored plan) fails, which ends the run with a backoff.
struct StatusRound {
    typealias Plan = StatusReconciler.Plan

    enum Action {
        case loadPendingWrite
        case loadOperation(String)
        case loadQueued(limit: Int)
        case renewLease
        /// GET the status cascade, logging the call for these operations.
        case readStatus(for: [String])
        /// Commit the write (its key is durable before the request that carries it leaves).
        case begin(PendingWrite)
        case send(PendingWrite)
        case abandon(PendingWrite)
        case dropPendingWrite
        case finish([OperationEnding], deletePendingWrite: Bool)
        case end(RunEnd)
    }

    enum Event {
        case done
        case failed
        case pendingWrite(PendingWrite?)
        case operation(StoredOperation?)
        case queued([StoredOperation])
        case status(Result<StatusCascade, RoktError>)
        case written(UpstreamWriter.Result)
    }

    static let roundsPerRun = 16

    private enum Phase {
        case findingPendingWrite
        case loadingResumed(PendingWrite, Plan)
        case loadingQueued
        case reading(StoredOperation)
        case sending(PendingWrite, Plan, StoredOperation)
        case checking(Plan, StoredOperation)
        case stepping(Next)
        case ended
    }

    private enum Next {
        case nextRound
        case loadResumed(PendingWrite, Plan)
        case read(StoredOperation)
        case send(PendingWrite, Plan, StoredOperation)
        case reissue(Plan, StoredOperation)
    }

    let setting: RoundSetting

    private var phase = Phase.findingPendingWrite
    private var round = 0

    init(configuration: EngineConfiguration, job: ClaimedJob, now: @escaping () -> Int64, newKey: @escaping () -> String) {
        setting = RoundSetting(configuration: configuration, job: job, now: now, newKey: newKey)
    }

    mutating func start() -> Action { .loadPendingWrite }

    /// The operation the round is working on (for the log when a step fails).
    var operationIds: [String] {
        switch phase {
        case .loadingResumed(let write, _): write.operationIds
        case .reading(let operation), .sending(_, _, let operation), .checking(_, let operation): [operation.id]
        case .stepping(.read(let operation)), .stepping(.send(_, _, let operation)), .stepping(.reissue(_, let operation)): [operation.id]
        default: []
        }
    }

    mutating func next(_ event: Event) -> Action {
        if case .failed = event { return end(runFailed(attempts: setting.attempts)) }
        switch (phase, event) {
        case (.stepping(let next), .done):
            return step(next)
        case (.findingPendingWrite, .pendingWrite(let pending?)):
            guard let plan = try? JSON.decode(Plan.self, from: pending.plan) else { return end(runFailed(attempts: setting.attempts)) }
            phase = .stepping(.loadResumed(pending, plan))
            return .renewLease
        case (.findingPendingWrite, .pendingWrite(nil)):
            phase = .loadingQueued
            return .loadQueued(limit: 1)
        case (.loadingResumed(let pending, let plan), .operation(let operation)):
            guard let operation, !operation.state.isTerminal else {
                phase = .stepping(.nextRound)
                return .dropPendingWrite
            }
            if setting.now() - pending.createdAt > setting.configuration.keyMaxAge.milliseconds {
                // Too old to re-send under the same key: start this operation over from a fresh read.
                phase = .stepping(.nextRound)
                return .abandon(pending)
            }
            return step(.send(pending, plan, operation))
        case (.loadingQueued, .queued(let operations)):
            guard let operation = operations.first else { return end(.idle) }
            phase = .stepping(.read(operation))
            return .renewLease
        case (.reading(let operation), .status(let read)):
            return started(operation, read: read)
        case (.sending(_, let plan, let operation), .written(let result)):
            return sent(operation, plan: plan, result: result)
        case (.checking(let plan, let operation), .status(let read)):
            return checked(operation, plan: plan, read: read)
        default:
            // An answer out of turn is a bug in the shell: end the run (the job comes back later) rather than the process.
            return end(runFailed(attempts: setting.attempts))
        }
    }

    private mutating func step(_ next: Next) -> Action {
        switch next {
        case .nextRound:
            round += 1
            guard round < Self.roundsPerRun else { return end(.idle) }
            phase = .findingPendingWrite
            return .loadPendingWrite
        case .loadResumed(let pending, let plan):
            phase = .loadingResumed(pending, plan)
            return .loadOperation(pending.operationIds[0])
        case .read(let operation):
            phase = .reading(operation)
            return .readStatus(for: [operation.id])
        case .send(let pending, let plan, let operation):
            phase = .sending(pending, plan, operation)
            return .send(pending)
        case .reissue(let plan, let operation):
            return issue(operation, plan: plan)
        }
    }

    private func desired(of operation: StoredOperation) -> PlacementStatus {
        if case .status(let status) = operation.intent { return status }
        return .active
    }

    /// The first GET answered: done already, or PUT the switch.
    private mutating func started(_ operation: StoredOperation, read: Result<StatusCascade, RoktError>) -> Action {
        switch read {
        case .failure(let error) where error.isRetryable:
            return end(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failure(let error):
            phase = .stepping(.nextRound)
            return .finish([.failure(operation, .upstream(error))], deletePendingWrite: false)
        case .success(let cascade):
            let target = desired(of: operation)
            if cascade.status.rawValue == target.rawValue {
                phase = .stepping(.nextRound)
                return .finish([.success(operation, changed: false, result: StatusDocument(cascade).encoded)], deletePendingWrite: false)
            }
            return issue(operation, plan: Plan(desired: target, attempt: 1, keys: [], requestIds: []))
        }
    }

    /// Commits a PUT with a fresh key, then sends it.
    private mutating func issue(_ operation: StoredOperation, plan: Plan) -> Action {
        var plan = plan
        let key = setting.newKey()
        plan.keys.append(key)
        let write = PendingWrite(
            merchantId: setting.merchantId, resource: setting.resource, operationIds: [operation.id], plan: JSON.encode(plan), method: "PUT",
            path: RoktPath.status(setting.merchantId), body: RoktJSON.encode(StatusChange(status: plan.desired)),
            idempotencyKey: key, createdAt: setting.now(), upstreamOperationId: nil)
        phase = .stepping(.send(write, plan, operation))
        return .begin(write)
    }

    private mutating func sent(_ operation: StoredOperation, plan: Plan, result: UpstreamWriter.Result) -> Action {
        switch result {
        case .stillPending:
            return end(.retry(.exactly(setting.configuration.maxPollInterval)))
        case .failed(let error) where error.isRetryable:
            return end(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failed(let error):
            phase = .stepping(.nextRound)
            return .finish([.failure(operation, .upstream(error))], deletePendingWrite: true)
        case .succeeded(let response):
            var plan = plan
            if let requestId = response?.requestId { plan.requestIds.append(requestId) }
            phase = .checking(plan, operation)
            return .readStatus(for: [operation.id])
        }
    }

    /// Reads the cascade our PUT produced: anything but the desired status is a failed cascade.
    private mutating func checked(_ operation: StoredOperation, plan: Plan, read: Result<StatusCascade, RoktError>) -> Action {
        let cascade: StatusCascade
        switch read {
        case .failure(let error) where error.isRetryable:
            // The write is done (its key would replay it); only the check failed: retry the check via the pending write.
            return end(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failure(let error):
            phase = .stepping(.nextRound)
            return .finish([.failure(operation, .upstream(error))], deletePendingWrite: true)
        case .success(let value):
            cascade = value
        }
        if cascade.status.rawValue == plan.desired.rawValue {
            phase = .stepping(.nextRound)
            return .finish([.success(operation, changed: true, result: StatusDocument(cascade).encoded)], deletePendingWrite: true)
        }
        if plan.attempt <= setting.configuration.maxCascadeRetries {
            var next = plan
            next.attempt += 1
            phase = .stepping(.reissue(next, operation))
            return .dropPendingWrite
        }
        let stuck = cascade.variants(notIn: plan.desired)
        let problem = Problem(
            status: 502, code: .cascadeIncomplete,
            detail: "Rokt left \(stuck.count) variant(s) not \(plan.desired.rawValue) after \(plan.attempt) cascade(s); quote the keys and request ids to Rokt support.",
            upstream: Problem.Upstream(status: 200, requestId: plan.requestIds.last, message: "status is \(cascade.status.rawValue)"),
            context: .object([
                "desiredStatus": .string(plan.desired.rawValue),
                "stuckVariants": .array(stuck.map { .object(["pageVariantId": .string($0.pageVariantId), "status": .string($0.status)]) }),
                "idempotencyKeys": .array(plan.keys.map(JSONValue.string)),
                "requestIds": .array(plan.requestIds.map(JSONValue.string)),
            ]))
        phase = .stepping(.nextRound)
        return .finish([.failure(operation, problem)], deletePendingWrite: true)
    }

    private mutating func end(_ end: RunEnd) -> Action {
        phase = .ended
        return .end(end)
    }
}
