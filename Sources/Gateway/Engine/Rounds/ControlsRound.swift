import JSON
import Rokt

/// The decisions of one controls job run, with no I/O: events in, actions out (`ControlsReconciler`
/// performs them). A run resumes the pending write if there is one; otherwise it GETs the full
/// state, merges every queued change, and PUTs the result with its contentHash (one PUT for many
/// callers). On 409 it re-reads and re-merges under a new key, up to `maxConflictRetries`; a batch
/// Rokt rejects with 400 is split in halves so one unmapped vertical fails alone. At most 16
/// rounds per run, so one busy merchant cannot hold a worker forever; fewer when the engine wants
/// the slot back after a round (`.slotWanted`: its concurrency limit fell below the runs going).
///
/// Every action is answered with exactly one event: `.done` for those that return nothing, and
/// `.failed` whenever the store (or a stored plan) fails, which ends the run with a backoff.
struct ControlsRound {
    typealias Plan = ControlsReconciler.Plan

    enum Action {
        case loadPendingWrite
        case loadQueued(limit: Int)
        /// The coalescing window: let operations still arriving join this round's write.
        case wait(Duration)
        case loadOperations([String])
        case renewLease
        case countAttempt([String])
        /// GET the controls, logging the call for these operations.
        case readControls(for: [String])
        /// Commit the write (its key is durable before the request that carries it leaves).
        case begin(PendingWrite)
        case send(PendingWrite)
        case abandon(PendingWrite)
        case dropPendingWrite
        case finish([OperationEnding], deletePendingWrite: Bool)
        /// A read-modify-write round starts or ends: the shell times it for the concurrency limit
        /// (and answers `.roundEnded` with `.slotWanted` when the limit wants the run to end).
        case roundStarted, roundEnded
        case end(RunEnd)
    }

    enum Event {
        case done
        case failed
        /// The answer to `.roundEnded` when the engine wants the run's slot back: the run ends
        /// after this round, its job left due.
        case slotWanted
        case pendingWrite(PendingWrite?)
        case queued([StoredOperation])
        case operations([StoredOperation])
        case controls(Result<MarketplaceControls, RoktError>)
        case written(UpstreamWriter.Result)
    }

    static let roundsPerRun = 16

    /// Operations merged into one write; `conflicts` counts 409s to this batch's PUTs in a row.
    private struct Batch {
        var operations: [StoredOperation]
        var splitOnRejection: Bool
        var conflicts = 0
    }

    /// A write sent (or re-sent) and the operations it settles.
    private struct Write {
        var pending: PendingWrite
        var plan: Plan
        var operations: [StoredOperation]
        var splitOnRejection: Bool
        /// Resumed from an earlier run: it belongs to no batch of this round.
        var resumed: Bool
    }

    /// What the round waits for.
    private enum Phase {
        case findingPendingWrite
        case loadingQueued(waited: Bool)
        case waiting
        case loadingResumed(PendingWrite, Plan)
        case reading
        case sending(Write)
        case readingBack(Write)
        /// A step answered with `.done`; then `next`.
        case stepping(Next)
        case ended
    }

    private enum Next {
        case startRun, loadQueuedAfterWindow
        case loadResumed(PendingWrite, Plan)
        case startBatches(Batch)
        case renewResumed(Write), countResumed(Write)
        case read, begin(Write), send(Write)
        case conflict(Write), split(Write)
        case batchSettled, writeSettled(Write)
        /// The resumed write is settled without a send: the round is over.
        case resumeSettled
        /// After `.roundEnded`: end the run, or start the next round when nil.
        case afterRound(RunEnd?)
    }

    let setting: RoundSetting

    private var phase = Phase.stepping(.startRun)
    private var round = 0
    private var batches: [Batch] = []

    init(configuration: EngineConfiguration, job: ClaimedJob, now: @escaping () -> Int64, newKey: @escaping () -> String) {
        setting = RoundSetting(configuration: configuration, job: job, now: now, newKey: newKey)
    }

    /// The first action of the run.
    mutating func start() -> Action { next(.done) }

    /// The operations the round is working on (for the log when a step fails).
    var operationIds: [String] {
        switch phase {
        case .loadingResumed(let write, _): write.operationIds
        case .sending(let write), .readingBack(let write): write.pending.operationIds
        default: batches.last?.operations.map(\.id) ?? []
        }
    }

    mutating func next(_ event: Event) -> Action {
        if case .failed = event { return end(runFailed(attempts: setting.attempts)) }
        switch (phase, event) {
        case (.stepping(let next), .done):
            return step(next)
        case (.stepping(.afterRound(let end)), .slotWanted):
            return self.end(end ?? .idle)
        case (.findingPendingWrite, .pendingWrite(let pending?)):
            guard let plan = try? JSON.decode(Plan.self, from: pending.plan) else { return end(runFailed(attempts: setting.attempts)) }
            phase = .stepping(.loadResumed(pending, plan))
            return .roundStarted
        case (.findingPendingWrite, .pendingWrite(nil)):
            phase = .loadingQueued(waited: false)
            return .loadQueued(limit: setting.configuration.maxBatch)
        case (.loadingQueued(let waited), .queued(let operations)):
            if operations.isEmpty, !waited { return end(.idle) }
            let window = setting.configuration.coalescingWindow
            if !waited, round > 0, (operations.count < setting.configuration.maxBatch), (window > .zero) {
                // Work kept arriving while the last write ran: let the stream gather into this one.
                phase = .stepping(.loadQueuedAfterWindow)
                return .wait(window)
            }
            phase = .stepping(.startBatches(Batch(operations: operations, splitOnRejection: true)))
            return .roundStarted
        case (.loadingResumed(let pending, let plan), .operations(let operations)):
            return resume(pending, plan: plan, operations: operations)
        case (.reading, .controls(let read)):
            return merge(read)
        case (.sending(let write), .written(let result)):
            return settle(write, result: result)
        case (.readingBack(let write), .controls(let read)):
            // Polled to completion (or an empty body): the state the write produced.
            return succeed(write, after: try? read.get())
        default:
            // An answer out of turn is a bug in the shell: end the run (the job comes back later) rather than the process.
            return end(runFailed(attempts: setting.attempts))
        }
    }

    // MARK: Steps

    private mutating func step(_ next: Next) -> Action {
        switch next {
        case .startRun:
            phase = .findingPendingWrite
            return .loadPendingWrite
        case .loadQueuedAfterWindow:
            phase = .loadingQueued(waited: true)
            return .loadQueued(limit: setting.configuration.maxBatch)
        case .loadResumed(let pending, let plan):
            phase = .loadingResumed(pending, plan)
            return .loadOperations(pending.operationIds)
        case .startBatches(let batch):
            batches = [batch]
            return advance()
        case .renewResumed(let write):
            phase = .stepping(.countResumed(write))
            return .renewLease
        case .countResumed(let write):
            phase = .stepping(.send(write))
            return .countAttempt(write.pending.operationIds)
        case .read:
            phase = .reading
            return .readControls(for: batches[batches.count - 1].operations.map(\.id))
        case .begin(let write):
            phase = .stepping(.send(write))
            return .begin(write.pending)
        case .send(let write):
            phase = .sending(write)
            return .send(write.pending)
        case .conflict(let write):
            return conflicted(write)
        case .split(let write):
            // Some change in the batch is invalid (an unmapped vertical…): bisect, so the valid ones
            // are applied and only the bad ones fail, in about 2·log2(n) writes per bad change.
            if !write.resumed { batches.removeLast() }
            let middle = write.operations.count / 2
            for half in [Array(write.operations[middle...]), Array(write.operations[..<middle])] {
                batches.append(Batch(operations: half, splitOnRejection: half.count > 1))
            }
            return advance()
        case .batchSettled:
            batches.removeLast()
            return advance()
        case .writeSettled(let write):
            if !write.resumed { batches.removeLast() }
            return advance()
        case .resumeSettled:
            return endRound(nil)
        case .afterRound(let end):
            guard let end else {
                round += 1
                return round < Self.roundsPerRun ? step(.startRun) : self.end(.idle)
            }
            return self.end(end)
        }
    }

    /// The next batch on the stack, or the end of the round when none is left.
    private mutating func advance() -> Action {
        while let batch = batches.last, batch.operations.isEmpty { batches.removeLast() }
        guard !batches.isEmpty else { return endRound(nil) }
        phase = .stepping(.read)
        return .renewLease
    }

    /// A pending write found at the start of a run: a retry, a poll, or (past the key's age) a fresh start.
    private mutating func resume(_ pending: PendingWrite, plan: Plan, operations: [StoredOperation]) -> Action {
        if setting.now() - pending.createdAt > setting.configuration.keyMaxAge.milliseconds {
            // Rokt forgets keys after 24 h: re-sending could apply it twice. Re-read and start over.
            phase = .stepping(.resumeSettled)
            return .abandon(pending)
        }
        let live = operations.filter { !$0.state.isTerminal }
        guard !live.isEmpty else {
            phase = .stepping(.resumeSettled)
            return .dropPendingWrite
        }
        return step(.renewResumed(Write(pending: pending, plan: plan, operations: live, splitOnRejection: true, resumed: true)))
    }

    /// The batch's GET answered: merge its changes and write the result (or end them without a PUT).
    private mutating func merge(_ read: Result<MarketplaceControls, RoktError>) -> Action {
        let remaining = batches[batches.count - 1].operations
        let state: MarketplaceControls
        switch read {
        case .success(let value):
            state = value
        case .failure(let error) where error.isRetryable:
            return endRound(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failure(let error):
            phase = .stepping(.batchSettled)
            return .finish(remaining.map { .failure($0, .upstream(error)) }, deletePendingWrite: false)
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
                endings.append(
                    .failure(
                        operation,
                        Problem(
                            status: viaIfMatch ? 412 : 409, code: .staleContentHash,
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
            phase = .stepping(.batchSettled)
            return .finish(endings + writing.map { .success($0, changed: false, result: result) }, deletePendingWrite: false)
        }

        var body = desired
        body.contentHash = state.contentHash
        let plan = Plan(changed: changed, desired: desired)
        let pending = PendingWrite(
            merchantId: setting.merchantId, resource: setting.resource, operationIds: writing.map(\.id), plan: JSON.encode(plan),
            method: "PUT", path: RoktPath.controls(setting.merchantId), body: RoktJSON.encode(body),
            idempotencyKey: setting.newKey(), createdAt: setting.now(), upstreamOperationId: nil)
        batches[batches.count - 1].operations = writing
        let write = Write(
            pending: pending, plan: plan, operations: writing, splitOnRejection: batches[batches.count - 1].splitOnRejection,
            resumed: false)
        guard endings.isEmpty else {
            phase = .stepping(.begin(write))
            return .finish(endings, deletePendingWrite: false)
        }
        return step(.begin(write))
    }

    /// Settles the write's operations according to Rokt's answer.
    private mutating func settle(_ write: Write, result: UpstreamWriter.Result) -> Action {
        switch result {
        case .succeeded(let response):
            if let after = (try? response?.decode(MarketplaceControls.self)) ?? nil { return succeed(write, after: after) }
            phase = .readingBack(write)
            return .readControls(for: write.pending.operationIds)
        case .stillPending:
            return endRound(.retry(.exactly(setting.configuration.maxPollInterval)))
        case .failed(let error) where error.isConflict:
            phase = .stepping(.conflict(write))
            return .abandon(write.pending)
        case .failed(let error) where error.isRetryable:
            return endRound(.retry(.backoff(attempt: setting.attempts + 1, retryAfter: error.retryAfter)))
        case .failed(let error) where error.status == 400 && write.splitOnRejection && write.operations.count > 1:
            phase = .stepping(.split(write))
            return .abandon(write.pending)
        case .failed(let error):
            phase = .stepping(.writeSettled(write))
            return .finish(write.operations.map { .failure($0, .upstream(error)) }, deletePendingWrite: true)
        }
    }

    private mutating func succeed(_ write: Write, after: MarketplaceControls?) -> Action {
        let document = ControlsDocument(after ?? write.plan.desired).encoded
        phase = .stepping(.writeSettled(write))
        return .finish(
            write.operations.map { .success($0, changed: write.plan.changed[$0.id] ?? true, result: document) },
            deletePendingWrite: true)
    }

    /// Someone else wrote between our GET and PUT: merge the same operations afresh, a bounded number of times.
    private mutating func conflicted(_ write: Write) -> Action {
        guard !write.resumed else {
            // Our hash went stale while we were retrying: merge the same operations afresh.
            batches.append(Batch(operations: write.operations, splitOnRejection: true))
            return advance()
        }
        batches[batches.count - 1].conflicts += 1
        let conflicts = batches[batches.count - 1].conflicts
        guard conflicts > setting.configuration.maxConflictRetries else { return advance() }
        let problem = Problem(
            status: 409, code: .conflictRetriesExhausted,
            detail: "Rokt's controls kept changing under us (\(conflicts) conflicts in a row); nothing was overwritten. Retry later.")
        phase = .stepping(.batchSettled)
        return .finish(write.operations.map { .failure($0, problem) }, deletePendingWrite: false)
    }

    /// Ends the round (timed), then the run with `end`, or starts the next round when nil.
    private mutating func endRound(_ end: RunEnd?) -> Action {
        phase = .stepping(.afterRound(end))
        return .roundEnded
    }

    private mutating func end(_ end: RunEnd) -> Action {
        phase = .ended
        return .end(end)
    }
}
