import JSON
import Rokt

/// The decisions of one single-write job run, with no I/O (`SingleWriteReconciler` performs
/// them), one operation at a time in FIFO order: commit a `PendingWrite` with a fresh key → send it
/// (following `X-Operation-Id` by polling) → on 5xx, 429, timeout or a dropped connection retry
/// later with the same bytes under the same key; on another 4xx fail with Rokt's message; on
/// success store Rokt's answer. Past the key's age a write that can be read back starts over, one
/// that cannot ends `outcome_unknown`. At most 16 operations per run.
///
/// Every action is answered with exactly one event: `.done` for those that return nothing, and
/// `.failed` whenever the store fails, which ends the run with a backoff.
struct SingleWriteRound {
    typealias Plan = SingleWriteReconciler.Plan

    enum Action {
        case loadPendingWrite
        case loadOperation(String)
        case loadQueued(limit: Int)
        case loadCalls(of: String)
        case renewLease
        case countAttempt([String])
        /// Commit the write (its key is durable before the request that carries it leaves).
        case begin(PendingWrite)
        case send(PendingWrite)
        /// GET Rokt's operation for the result of a write it finished asynchronously, logging the call for these operations.
        case readUpstreamOperation(String, for: [String])
        case recordRegistration(StoredOperation, accountId: String, externalAccountId: String, merchant: JSONValue, isNew: Bool)
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
        case calls([UpstreamCall])
        case upstreamOperation(Result<RoktOperation, RoktError>)
        case written(UpstreamWriter.Result)
    }

    static let roundsPerRun = 16

    /// A write in flight: what was sent, for which operation.
    private struct Write {
        var pending: PendingWrite
        var operation: StoredOperation
    }

    private enum Phase {
        case findingPendingWrite
        case loadingResumed(PendingWrite)
        case loadingCalls(Write)
        case loadingQueued
        case sending(Write)
        /// Rokt finished the write asynchronously: its answer comes from Rokt's operation.
        case reloadingPendingWrite(Write, RoktResponse?)
        case readingResult(Write, RoktResponse?)
        case stepping(Next)
        case ended
    }

    private enum Next {
        case nextRound
        case countAttempt(Write)
        case begin(Write)
        case send(Write)
        case finish(Write, changed: Bool, result: JSONValue)
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
        case .loadingResumed(let pending): pending.operationIds
        case .loadingCalls(let write), .sending(let write), .reloadingPendingWrite(let write, _), .readingResult(let write, _),
            .stepping(.countAttempt(let write)), .stepping(.begin(let write)), .stepping(.send(let write)),
            .stepping(.finish(let write, _, _)):
            write.pending.operationIds
        default: []
        }
    }

    mutating func next(_ event: Event) -> Action {
        if case .failed = event { return end(runFailed(attempts: setting.attempts)) }
        switch (phase, event) {
        case (.stepping(let next), .done):
            return step(next)
        case (.findingPendingWrite, .pendingWrite(let pending?)):
            phase = .loadingResumed(pending)
            return .loadOperation(pending.operationIds[0])
        case (.findingPendingWrite, .pendingWrite(nil)):
            phase = .loadingQueued
            return .loadQueued(limit: 1)
        case (.loadingResumed(let pending), .operation(let operation)):
            return resume(pending, operation: operation)
        case (.loadingCalls(let write), .calls(let calls)):
            phase = .stepping(.nextRound)
            return .finish([.failure(write.operation, OutcomeUnknown.problem(for: write.pending, calls: calls))], deletePendingWrite: true)
        case (.loadingQueued, .queued(let operations)):
            guard let operation = operations.first else { return end(.idle) }
            guard case .single(let single) = operation.intent else {
                let problem = Problem(status: 500, code: .internalError, detail: "The operation cannot be run by this gateway version.")
                phase = .stepping(.nextRound)
                return .finish([.failure(operation, problem)], deletePendingWrite: false)
            }
            let pending = PendingWrite(
                merchantId: setting.merchantId, resource: setting.resource, operationIds: [operation.id], plan: JSON.encode(Plan(kind: single.kind)),
                method: single.method, path: single.path, body: single.encodedBody, idempotencyKey: setting.newKey(),
                createdAt: setting.now(), upstreamOperationId: nil)
            phase = .stepping(.begin(Write(pending: pending, operation: operation)))
            return .renewLease
        case (.sending(let write), .written(let result)):
            return sent(write, result: result)
        case (.reloadingPendingWrite(let write, let response), .pendingWrite(let stored)):
            guard let operationId = stored?.upstreamOperationId else { return answered(write, response: response, data: .object([:])) }
            phase = .readingResult(write, response)
            return .readUpstreamOperation(operationId, for: write.pending.operationIds)
        case (.readingResult(let write, let response), .upstreamOperation(let read)):
            return answered(write, response: response, data: (try? read.get().result) ?? .object([:]))
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
        case .countAttempt(let write):
            phase = .stepping(.send(write))
            return .countAttempt(write.pending.operationIds)
        case .begin(let write):
            phase = .stepping(.send(write))
            return .begin(write.pending)
        case .send(let write):
            phase = .sending(write)
            return .send(write.pending)
        case .finish(let write, let changed, let result):
            phase = .stepping(.nextRound)
            return .finish([.success(write.operation, changed: changed, result: result.serialized)], deletePendingWrite: true)
        }
    }

    /// A pending write found at the start of a run: re-sent with its stored key. Past the key's
    /// age (when Rokt may forget it), a write that can be read back is dropped and started over;
    /// one that cannot ends `outcome_unknown`, never re-sent under a new key.
    private mutating func resume(_ pending: PendingWrite, operation: StoredOperation?) -> Action {
        guard let operation, !operation.state.isTerminal else {
            phase = .stepping(.nextRound)
            return .dropPendingWrite
        }
        let write = Write(pending: pending, operation: operation)
        // Following Rokt's operation id is a read: safe at any age.
        if pending.upstreamOperationId == nil, setting.now() - pending.createdAt > setting.configuration.keyMaxAge.milliseconds {
            if operation.intentKind?.hasReadBack == false {
                phase = .loadingCalls(write)
                return .loadCalls(of: operation.id)
            }
            phase = .stepping(.nextRound)
            return .abandon(pending)
        }
        phase = .stepping(.countAttempt(write))
        return .renewLease
    }

    private mutating func sent(_ write: Write, result: UpstreamWriter.Result) -> Action {
        switch result {
        case .stillPending:
            return end(.retry(.exactly(setting.configuration.maxPollInterval)))
        case .failed(let error) where error.isRetryable:
            return end(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failed(let error):
            phase = .stepping(.nextRound)
            return .finish([.failure(write.operation, .upstream(error))], deletePendingWrite: true)
        case .succeeded(let response):
            // Rokt's answer: the response's data, or, for a write Rokt finished asynchronously,
            // the result its operation reports.
            if let response, let data = try? response.decode(JSONValue.self), data != .null {
                return answered(write, response: response, data: data)
            }
            phase = .reloadingPendingWrite(write, response)
            return .loadPendingWrite
        }
    }

    /// Rokt's answer is known: record a registration, then end the operation with it.
    private mutating func answered(_ write: Write, response: RoktResponse?, data: JSONValue) -> Action {
        let operation = write.operation
        let isRegister = operation.intentKind == .register
        // Rokt's account in the gateway's spelling, whatever the shape it came in.
        let result = isRegister ? RoktAccount.registered(data) ?? data : data
        // Register: a new account is 201; 200 means Rokt already had this externalAccountId.
        let changed = response.map { $0.status != 200 || !isRegister } ?? true
        if isRegister, let accountId = result["accountId"]?.stringValue,
            case .single(let single) = operation.intent, let external = single.body?["external_account_id"]?.stringValue
        {
            // A merchant Rokt already had is not newly registered.
            phase = .stepping(.finish(write, changed: changed, result: result))
            return .recordRegistration(operation, accountId: accountId, externalAccountId: external, merchant: result, isNew: changed)
        }
        return step(.finish(write, changed: changed, result: result))
    }

    private mutating func end(_ end: RunEnd) -> Action {
        phase = .ended
        return .end(end)
    }
}
