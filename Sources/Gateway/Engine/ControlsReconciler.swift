import JSON
import Rokt

/// Runs a controls job: performs what `ControlsRound` decides (GET, merge, PUT with the
/// contentHash, re-merge on 409, bisect on 400) through the context's store and Rokt client.
struct ControlsReconciler: Sendable {
    /// Stored with the pending write: what each operation changes, and the state the PUT asks for.
    struct Plan: Codable, Sendable {
        var changed: [String: Bool]
        var desired: MarketplaceControls
    }

    let context: EngineContext

    func run(_ job: ClaimedJob) async -> JobOutcome {
        let context = self.context
        var round = ControlsRound(configuration: context.configuration, job: job, now: { context.now }, newKey: Identifiers.idempotencyKey)
        var action = round.start()
        var roundStarted = context.runtime.monotonicNow()
        // Until the round's first answer from Rokt: the part of a round that does not grow with its
        // batch (the limit's contention signal; merging and writing 500 operations takes longer
        // than 5 without anything being contended).
        var firstRead: Duration?
        while true {
            let event: ControlsRound.Event
            do {
                switch action {
                case .end(let end):
                    return context.outcome(of: end)
                case .loadPendingWrite:
                    event = .pendingWrite(try await context.pendingWrite(for: job))
                case .loadQueued(let limit):
                    event = .queued(try await context.queued(for: job, limit: limit))
                case .wait(let window):
                    try await context.runtime.sleep(window)
                    event = .done
                case .loadOperations(let ids):
                    event = .operations(try await context.operations(ids))
                case .renewLease:
                    try await context.renew(job)
                    event = .done
                case .countAttempt(let ids):
                    try await context.countAttempt(ids)
                    event = .done
                case .readControls(let ids):
                    let read = await context.rokt.getControls(job.merchantId)
                    // Only an answer: a call held back (circuit open) or refused at once would set a
                    // baseline no answered round comes near, and every round after it would count as slow.
                    if firstRead == nil, case .success = read.result { firstRead = context.runtime.monotonicNow() - roundStarted }
                    await context.record(read.call, for: ids)
                    event = .controls(read.result)
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
                case .roundStarted:
                    roundStarted = context.runtime.monotonicNow()
                    firstRead = nil
                    event = .done
                case .roundEnded:
                    switch context.roundEnded(after: context.runtime.monotonicNow() - roundStarted, firstRead: firstRead) {
                    case .handOver:
                        event = .slotWanted
                    case .goOn(let rest):
                        if rest > .zero { try await context.runtime.sleep(rest) }
                        event = .done
                    }
                }
            } catch {
                context.report(error, "controls run failed; retrying later", operationIds: round.operationIds)
                event = .failed
            }
            action = round.next(event)
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
