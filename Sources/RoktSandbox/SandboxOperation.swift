import FoundationEssentials

/// The record behind an `X-Operation-Id`: one per non-dry-run write that was accepted.
///
/// Guarantees: readable only by the manager account whose request created it (anyone else
/// gets 404, as if it did not exist); a `succeeded` or `failed` operation never changes again;
/// a `pending` one (only made by the pending-operations fault) completes on the poll after
/// its `pollsRemaining` polls.
public struct SandboxOperation: Sendable {
    public enum State: String, Sendable, Encodable { case pending, succeeded, failed }

    public var operationId: String
    /// What the write was: `marketplacecontrols.replace`, `status.set`, `layout.update`,
    /// `page.create`, `payout.setup`, `account.register`, `network_privacy_request.create`,
    /// `data_deletion_request.create`.
    public var type: String
    public var accountId: String?
    public var managerAccountId: String
    public var state: State
    public var createdAt: Date
    public var updatedAt: Date
    /// Polls still answered `pending` before the one that completes it.
    public var pollsRemaining: Int
    /// Why a completed-later write failed (e.g. 409 when the controls changed meanwhile).
    public var error: SandboxError?
    var result: SandboxData?
    /// The write a pending operation applies when it completes.
    var deferred: SandboxWrite?

    var view: OperationView {
        OperationView(
            operationId: operationId, type: type, accountId: accountId, state: state.rawValue,
            createdAt: Timestamp.format(createdAt), updatedAt: Timestamp.format(updatedAt), result: result,
            error: error.map { OperationView.Failure(status: $0.status, error: $0.code, message: $0.message) })
    }
}

/// The operations the sandbox remembers, bounded so that a long benchmark cannot grow memory
/// without limit: past `limit` entries, the oldest finished operations are forgotten (a poll
/// of one then answers 404, as for an unknown id). Pending operations are never evicted.
struct OperationLedger: Sendable {
    let limit: Int
    private var operations: [String: SandboxOperation] = [:]

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { operations.count }
    var isEmpty: Bool { operations.isEmpty }

    subscript(id: String) -> SandboxOperation? {
        get { operations[id] }
        set {
            operations[id] = newValue
            if operations.count > limit { evictOldest() }
        }
    }

    mutating func removeAll() { operations.removeAll() }

    /// Down to three quarters of the limit, oldest finished first: amortised O(1) per insert.
    private mutating func evictOldest() {
        let target = limit * 3 / 4
        let finished = operations.values.filter { $0.state != .pending }.sorted { $0.createdAt < $1.createdAt }
        for operation in finished.prefix(max(0, operations.count - target)) { operations[operation.operationId] = nil }
    }
}
