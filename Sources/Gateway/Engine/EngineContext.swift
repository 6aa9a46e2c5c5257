import JSON
import Rokt
import Synchronization

/// What every reconciler needs, passed down from the engine.
struct EngineContext: Sendable {
    let store: any OperationStore
    let rokt: RoktClient
    let clock: any WallClock
    let configuration: EngineConfiguration
    let board: CompletionBoard
    let owner: String
    /// Told how long each read-modify-write round took and how long it took to its first answer
    /// from Rokt (the engine's concurrency limit feeds on that); answers what the run does next
    /// (`ConcurrencyLimit.afterRound`). Call `roundEnded`.
    let observeRound: @Sendable (_ round: Duration, _ firstRead: Duration?) -> AfterRound
    /// Calls made during the current job run, written by its next write (never a write of their own).
    let calls = CallBuffer()
    /// When the current job's lease runs out, as far as this run knows.
    let lease = LeaseDeadline()
    /// The operations this run loaded, as its own writes left them in the store.
    let known = KnownOperations()
    /// Set when a call of this run was held back to protect Rokt (never sent).
    let held = RunFlag()
    /// Set when this run was told to hand its slot back after a round (the engine accounts for it at the run's end).
    let handedOver = RunFlag()

    var now: Int64 { clock.nowMillis() }
    var runtime: EngineRuntime { configuration.runtime }

    /// A context for one job run, with its own call buffer and lease deadline.
    func forJob(_ job: ClaimedJob) -> EngineContext {
        let context = EngineContext(
            store: store, rokt: rokt, clock: clock, configuration: configuration, board: board, owner: owner,
            observeRound: observeRound)
        context.lease.until = job.leaseUntil
        return context
    }

    /// Feeds a round's times to the concurrency limit; answers what the run does next.
    /// `firstRead`: from the round's start to its first answer from Rokt (nil: it read nothing).
    func roundEnded(after round: Duration, firstRead: Duration?) -> AfterRound {
        let next = observeRound(round, firstRead)
        if next == .handOver { handedOver.mark() }
        return next
    }

    /// The job outcome a round's ending asks for; the jitter of a backoff is drawn here, from the runtime's random source.
    /// A run that ended because a call was held back (circuit open, Rokt's pause, the outbound
    /// limiter) is deferred: no attempt was made, so none is counted.
    func outcome(of end: RunEnd) -> JobOutcome {
        switch end {
        case .idle: .idle
        case .retry where held.happened: .deferred(after: rokt.protection.holdRemaining() ?? .seconds(1))
        case .retry(let delay): .retry(after: duration(of: delay))
        }
    }

    func duration(of delay: RetryDelay) -> Duration {
        var random = InjectedRandom(source: runtime.random)
        return delay.duration(under: configuration.retry, using: &random)
    }

    /// Logs an error the run recovers from (by retrying later, or by going on without what failed).
    func report(_ error: any Error, _ message: String, operationIds: [String]) {
        runtime.logger.warn(message, ["error": String(describing: error), "operationIds": operationIds.joined(separator: ",")])
    }

    /// Logs an upstream call for operations; the log is best-effort, so a failure is reported, not thrown.
    /// A call held back was never sent: it is remembered for the run's outcome, not logged.
    func record(_ call: UpstreamCall, for ids: [String]) async {
        if call.held == true { return held.mark() }
        do { try await log(call, for: ids) } catch { report(error, "logging an upstream call failed", operationIds: ids) }
    }
}

/// How one operation ends. It carries the operation as the run loaded it, so what the
/// ending causes (webhook events) is built from memory, not read back from the store.
struct OperationEnding: Sendable {
    var operation: StoredOperation
    var changed: Bool?
    /// The result document, encoded.
    var result: String?
    var error: Problem?

    var id: String { operation.id }

    /// The problem as stored: stamped with its operation id.
    var storedError: Problem? {
        error.map { problem in
            var stamped = problem
            stamped.operationId = id
            return stamped
        }
    }

    /// `operation` (the run's latest copy of it) as it is once this ending is stored at `now`.
    func applied(to operation: StoredOperation, at now: Int64) -> StoredOperation {
        var ended = operation
        ended.state = error == nil ? .succeeded : .failed
        ended.changed = changed
        ended.result = result.flatMap { try? JSON.decode(JSONValue.self, from: Array($0.utf8)) }
        ended.error = storedError
        ended.updatedAt = now
        return ended
    }

    static func success(_ operation: StoredOperation, changed: Bool, result: String?) -> OperationEnding {
        OperationEnding(operation: operation, changed: changed, result: result, error: nil)
    }

    static func failure(_ operation: StoredOperation, _ problem: Problem) -> OperationEnding {
        OperationEnding(operation: operation, changed: false, result: nil, error: problem)
    }
}

/// What a job run leaves behind.
enum JobOutcome: Sendable, Equatable {
    /// Nothing is left to do (new work may have arrived meanwhile: the release checks).
    case idle
    /// Rokt is failing: come back after the delay (the pending write is kept, same key).
    case retry(after: Duration)
    /// Not attempted (held to protect Rokt, or over the retry budget): come back after the delay,
    /// with the job's failed runs unchanged.
    case deferred(after: Duration)
}

/// Something that happened during a job run, or not (set once, never cleared).
final class RunFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func mark() { value.store(true, ordering: .relaxed) }
    var happened: Bool { value.load(ordering: .relaxed) }
}

/// Upstream calls waiting to be stored with the next write of a job run.
final class CallBuffer: Sendable {
    private let entries = Mutex<[LoggedCall]>([])
    func append(_ call: LoggedCall) { entries.withLock { $0.append(call) } }
    func drain() -> [LoggedCall] {
        entries.withLock { entries in
            defer { entries = [] }; return entries
        }
    }
    func restore(_ pending: [LoggedCall]) { entries.withLock { $0.insert(contentsOf: pending, at: 0) } }
    /// The calls not yet stored that served `operationId`, oldest first.
    func pending(for operationId: String) -> [UpstreamCall] {
        entries.withLock { $0.filter { $0.operationIds.contains(operationId) }.map(\.call) }
    }
}

/// The operations a job run has loaded, updated as the run's own writes change them in the
/// store (the same conditions as the store applies), so an ending is applied to the operation
/// as stored: its attempts, its state, the merchant a register moved it under.
final class KnownOperations: Sendable {
    private let operations = Mutex<[String: StoredOperation]>([:])

    func remember(_ loaded: [StoredOperation]) {
        operations.withLock { known in for operation in loaded { known[operation.id] = operation } }
    }

    func update(_ ids: [String], _ change: (inout StoredOperation) -> Void) {
        operations.withLock { known in
            for id in ids { if var operation = known[id] { change(&operation); known[id] = operation } }
        }
    }

    /// The run's latest copy of `operation`.
    func current(_ operation: StoredOperation) -> StoredOperation { operations.withLock { $0[operation.id] } ?? operation }
}

/// The lease deadline of one job run (written by renewals, read before each step).
final class LeaseDeadline: Sendable {
    private let value = Mutex<Int64>(0)
    var until: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
