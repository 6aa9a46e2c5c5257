import Rokt

/// Runs a status job: performs what `StatusRound` decides (GET, PUT the switch, GET to check
/// the cascade, re-issue or `cascade_incomplete`) through the context's store and Rokt client.
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
        let context = self.context
        var round = StatusRound(configuration: context.configuration, job: job, now: { context.now }, newKey: Identifiers.idempotencyKey)
        var action = round.start()
        while true {
            let event: StatusRound.Event
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
                case .renewLease:
                    try await context.renew(job)
                    event = .done
                case .readStatus(let ids):
                    let read = await context.rokt.getStatus(job.merchantId)
                    await context.record(read.call, for: ids)
                    event = .status(read.result)
                case .begin(let write):
                    try await context.begin(write)
                    event = .done
                case .send(let write):
                    event = .written(await UpstreamWriter(context: context).send(write))
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
                context.report(error, "status run failed; retrying later", operationIds: round.operationIds)
                event = .failed
            }
            action = round.next(event)
        }
    }
}
