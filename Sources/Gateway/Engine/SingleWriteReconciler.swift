import Rokt

/// Runs a single-write job: performs what `SingleWriteRound` decides (commit the write with a
/// fresh key, send it, retry under the same key, fail, or store Rokt's answer) through the
/// context's store and Rokt client.
struct SingleWriteReconciler: Sendable {
    /// Stored with the pending write.
    struct Plan: Codable, Sendable {
        var kind: SingleWrite.Kind
    }

    let context: EngineContext

    func run(_ job: ClaimedJob) async -> JobOutcome {
        let context = self.context
        var round = SingleWriteRound(configuration: context.configuration, job: job, now: { context.now }, newKey: Identifiers.idempotencyKey)
        var action = round.start()
        while true {
            let event: SingleWriteRound.Event
            do {
                switch action {
                case .end(let end):
                    return context.outcome(of: end)
                case .loadPendingWrite:
                    event = .pendingWrite(try await context.pendingWrite(for: job))
                case .loadOperation(let id):
                    event = .operation(try await context.operation(id))
                case .loadQueued(let limit):
                    event = .queued(try await context.queued(for: job, limit: limit))
                case .loadCalls(let id):
                    event = .calls(try await context.calls(of: id))
                case .renewLease:
                    try await context.renew(job)
                    event = .done
                case .countAttempt(let ids):
                    try await context.countAttempt(ids)
                    event = .done
                case .begin(let write):
                    try await context.begin(write)
                    event = .done
                case .send(let write):
                    event = .written(await UpstreamWriter(context: context).send(write))
                case .readUpstreamOperation(let operationId, let ids):
                    let read = await context.rokt.getOperation(operationId)
                    await context.record(read.call, for: ids)
                    event = .upstreamOperation(read.result)
                case .recordRegistration(let operation, let accountId, let externalAccountId, let merchant, let isNew):
                    try await context.recordRegistration(
                        of: operation, accountId: accountId, externalAccountId: externalAccountId,
                        merchant: merchant, isNew: isNew)
                    event = .done
                case .abandon(let write):
                    try await context.abandon(write)
                    event = .done
                case .dropPendingWrite:
                    try await context.dropPendingWrite(of: job)
                    event = .done
                case .finish(let endings, let deletePendingWrite):
                    try await context.finish(endings, job: job, deletePendingWrite: deletePendingWrite)
                    event = .done
                }
            } catch {
                context.report(error, "single-write run failed; retrying later", operationIds: round.operationIds)
                event = .failed
            }
            action = round.next(event)
        }
    }
}

extension StoredOperation {
    var intentKind: SingleWrite.Kind? {
        if case .single(let write) = intent { return write.kind }
        return nil
    }
}
