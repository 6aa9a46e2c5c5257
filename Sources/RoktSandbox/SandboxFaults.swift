/// The in-process fault API of a `RoktSandbox` (the admin routes offer the same over HTTP).
/// Faults strike in the order they were added and vanish when their budget is spent.
public struct SandboxFaults: Sendable {
    let engine: SandboxEngine

    /// Adds a fault; returns its id.
    @discardableResult
    public func add(_ fault: SandboxFault) -> String {
        engine.state.withLock { $0.faults.add(fault) }
    }

    /// The faults in force, oldest first.
    public var active: [ActiveFault] { engine.state.withLock { $0.faults.active } }

    /// Removes every fault.
    public func clear() { engine.state.withLock { $0.faults.removeAll() } }

    /// The next `count` requests matching `method` and `path` answer `status` (see `StatusFault`).
    @discardableResult
    public func failNext(
        _ count: Int = 1, method: String? = nil, path: String? = nil, status: Int,
        retryAfterSeconds: Int? = nil, timing: FaultTiming = .beforeApplying
    ) -> String {
        add(
            .status(
                StatusFault(
                    match: RequestMatcher(method: method, path: path), status: status,
                    retryAfterSeconds: retryAfterSeconds, count: count, timing: timing)))
    }

    /// Matching requests wait `milliseconds` first; the next `count` of them, or all when nil.
    @discardableResult
    public func addLatency(milliseconds: Int, method: String? = nil, path: String? = nil, count: Int? = nil) -> String {
        add(.latency(LatencyFault(match: RequestMatcher(method: method, path: path), milliseconds: milliseconds, count: count)))
    }

    /// The next `count` matching requests get their connection closed without a response.
    @discardableResult
    public func dropNext(_ count: Int = 1, method: String? = nil, path: String? = nil, timing: FaultTiming = .beforeApplying) -> String {
        add(.drop(DropFault(match: RequestMatcher(method: method, path: path), count: count, timing: timing)))
    }

    /// Right after the next GET of `accountId`'s controls is answered, a foreign writer edits
    /// them (the fields given, or a new blocked domain when none is), making that GET's hash stale.
    @discardableResult
    public func editControlsAfterNextGet(
        of accountId: String, name: String? = nil,
        blockedVerticals: [BlockedVertical]? = nil, domains: [BlockedDomain]? = nil
    ) -> String {
        add(.foreignEdit(ForeignControlsEdit(accountId: accountId, name: name, blockedVerticals: blockedVerticals, domains: domains)))
    }

    /// The next `cascades` status PUTs on `accountId` leave `variantIds` as they are (→ `mixed`).
    @discardableResult
    public func leaveVariantsStuck(_ variantIds: [String], of accountId: String, forNextCascades cascades: Int = 1) -> String {
        add(.stuckVariants(StuckVariantsFault(accountId: accountId, variantIds: variantIds, cascades: cascades)))
    }

    /// The next `count` matching writes answer 202 with an operation pending for `polls` polls.
    @discardableResult
    public func holdWritesPending(forPolls polls: Int, count: Int = 1, method: String? = nil, path: String? = nil) -> String {
        add(.pendingOperations(PendingOperationsFault(match: RequestMatcher(method: method, path: path), count: count, polls: polls)))
    }
}
