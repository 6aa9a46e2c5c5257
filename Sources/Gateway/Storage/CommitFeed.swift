import Synchronization

/// A committed change that someone may be waiting for.
enum StoreCommit: Sendable, Equatable {
    /// A job became due, or due sooner (an operation was submitted). On PostgreSQL only then:
    /// a submit to a job already due or running is no news to a scheduler.
    case jobDue(ClaimedJobKey)
    /// Webhook deliveries were stored, due now or soon.
    case deliveriesDue
    /// These operations ended.
    case operationsEnded([String])
    /// An API key was created or revoked.
    case apiKeysChanged
}

/// "Tell me when this commits": observers hear of commits of interest, after they are durable.
///
/// What a backend must guarantee: a notice is published only after its transaction committed,
/// never for one that rolled back, and reaches every observer of this process (PostgreSQL:
/// LISTEN/NOTIFY, so every process sharing the database hears it). Notices are hints, not a
/// log: an observer may miss one (a backend may drop them under load), so each also polls.
protocol CommitFeed: Sendable {
    /// Calls `observer` for every notice until the observation is cancelled. The observer runs
    /// on the committing thread: it must only hand the notice on (signal, resume), never block.
    func observe(_ observer: @escaping @Sendable (StoreCommit) -> Void) -> CommitObservation
    /// Gateway processes working on this store lately, this one included: those whose notices
    /// were heard in the last `ReplicaCensus.horizon` (1 for a store no other process shares).
    var replicasWorking: Int { get }
}

extension CommitFeed {
    var replicasWorking: Int { 1 }
}

/// Cancels an observation (idempotent).
final class CommitObservation: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>
    init(onCancel: @escaping @Sendable () -> Void) { self.onCancel = Mutex(onCancel) }
    func cancel() {
        onCancel.withLock { action in
            defer { action = nil }; return action
        }?()
    }
}

/// A process-wide fan-out of notices, for backends whose notices stay in the process.
final class CommitBroadcast: Sendable {
    private struct State {
        var next: UInt64 = 0
        var observers: [UInt64: @Sendable (StoreCommit) -> Void] = [:]
    }
    private let state = Mutex(State())

    func observe(_ observer: @escaping @Sendable (StoreCommit) -> Void) -> CommitObservation {
        let id = state.withLock { state in
            state.next += 1
            state.observers[state.next] = observer
            return state.next
        }
        return CommitObservation { [self] in _ = state.withLock { $0.observers.removeValue(forKey: id) } }
    }

    func publish(_ commit: StoreCommit) {
        for observer in state.withLock({ Array($0.observers.values) }) { observer(commit) }
    }
}
