/// Which requests a fault applies to: a method (any when nil) and a path pattern (any when nil).
///
/// Patterns are matched against the path as sent (still percent-encoded, without the query),
/// segment by segment: a literal segment matches itself, `*` matches exactly one non-empty
/// segment, and a final `**` matches whatever remains (nothing included). Admin paths
/// (`/__sandbox/…`) are never matched.
public struct RequestMatcher: Sendable, Equatable {
    public var method: String?
    public var path: String?

    public init(method: String? = nil, path: String? = nil) {
        self.method = method.map { $0 == "*" ? nil : $0.uppercased() } ?? nil
        self.path = path == "*" || path == "/**" ? nil : path
    }

    public func matches(method: String, path: String) -> Bool {
        if let expected = self.method, expected != method { return false }
        guard let pattern = self.path else { return true }
        return Self.matches(pattern: pattern, path: path)
    }

    static func matches(pattern: String, path: String) -> Bool {
        let wanted = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in wanted.enumerated() {
            if segment == "**" && index == wanted.count - 1 { return actual.count >= index }
            guard index < actual.count else { return false }
            if segment == "*" {
                if actual[index].isEmpty { return false }
            } else if segment != actual[index] {
                return false
            }
        }
        return wanted.count == actual.count
    }
}

/// When a status or drop fault strikes relative to the real work.
public enum FaultTiming: String, Sendable, Equatable, CaseIterable {
    /// The request is not applied: no state change, no idempotency record.
    case beforeApplying
    /// The request is applied in full (state, operation, idempotency record of the real
    /// response) and then the client gets the fault instead: what makes retries with the
    /// same Idempotency-Key matter.
    case afterApplying
}

/// The next `count` matching requests (every one when `count` is nil), each with
/// `probability` (1 = always), answer `status` in the surface's error shape, with
/// `Retry-After: retryAfterSeconds` when set.
public struct StatusFault: Sendable, Equatable {
    public var match: RequestMatcher
    public var status: Int
    public var retryAfterSeconds: Int?
    public var count: Int?
    public var probability: Double
    public var timing: FaultTiming

    public init(
        match: RequestMatcher = RequestMatcher(), status: Int, retryAfterSeconds: Int? = nil, count: Int? = 1,
        probability: Double = 1, timing: FaultTiming = .beforeApplying
    ) {
        self.match = match
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.count = count
        self.probability = probability
        self.timing = timing
    }
}

/// Matching requests wait `milliseconds` (a `Task.sleep`, no thread blocked) before they are
/// processed; for the next `count` of them, or all when nil. Delays of several faults add up.
public struct LatencyFault: Sendable, Equatable {
    public var match: RequestMatcher
    public var milliseconds: Int
    public var count: Int?

    public init(match: RequestMatcher = RequestMatcher(), milliseconds: Int, count: Int? = nil) {
        self.match = match
        self.milliseconds = milliseconds
        self.count = count
    }
}

/// The next `count` matching requests get no response at all: the connection is closed.
public struct DropFault: Sendable, Equatable {
    public var match: RequestMatcher
    public var count: Int?
    public var timing: FaultTiming

    public init(match: RequestMatcher = RequestMatcher(), count: Int? = 1, timing: FaultTiming = .beforeApplying) {
        self.match = match
        self.count = count
        self.timing = timing
    }
}

/// A concurrent foreign writer: right after the next `count` GETs of `accountId`'s controls
/// are computed, their state is edited (so the contentHash those GETs returned is stale).
/// The edit replaces the fields given; when none is given it adds the blocked domain
/// `foreign-edit-<n>.example.com`, so the hash always changes.
public struct ForeignControlsEdit: Sendable, Equatable {
    public var accountId: String
    public var name: String?
    public var blockedVerticals: [BlockedVertical]?
    public var domains: [BlockedDomain]?
    public var count: Int

    public init(
        accountId: String, name: String? = nil, blockedVerticals: [BlockedVertical]? = nil,
        domains: [BlockedDomain]? = nil, count: Int = 1
    ) {
        self.accountId = accountId
        self.name = name
        self.blockedVerticals = blockedVerticals
        self.domains = domains
        self.count = count
    }
}

/// The next `cascades` status PUTs on `accountId` (dry-runs excluded) leave `variantIds` with
/// the status they had, so the PUT's response and the GET after it say `mixed`.
public struct StuckVariantsFault: Sendable, Equatable {
    public var accountId: String
    public var variantIds: [String]
    public var cascades: Int

    public init(accountId: String, variantIds: [String], cascades: Int = 1) {
        self.accountId = accountId
        self.variantIds = variantIds
        self.cascades = cascades
    }
}

/// The next `count` matching writes that pass validation (dry-runs excluded) are answered
/// 202 with a pending operation instead of being applied. The operation stays `pending` for
/// `polls` polls by its manager; the poll after those applies the write to the state as it
/// is then, and the operation becomes `succeeded` (with the result) or `failed` (with the
/// error, e.g. a 409 when the controls changed meanwhile).
public struct PendingOperationsFault: Sendable, Equatable {
    public var match: RequestMatcher
    public var count: Int
    public var polls: Int

    public init(match: RequestMatcher = RequestMatcher(), count: Int = 1, polls: Int) {
        self.match = match
        self.count = count
        self.polls = polls
    }
}

/// A fault to inject; see each kind's doc comment for exactly what it does.
public enum SandboxFault: Sendable, Equatable {
    case status(StatusFault)
    case latency(LatencyFault)
    case drop(DropFault)
    case foreignEdit(ForeignControlsEdit)
    case stuckVariants(StuckVariantsFault)
    case pendingOperations(PendingOperationsFault)

    /// The `kind` of the admin JSON shape.
    public var kind: String {
        switch self {
        case .status: "status"
        case .latency: "latency"
        case .drop: "drop"
        case .foreignEdit: "foreignEdit"
        case .stuckVariants: "stuckVariants"
        case .pendingOperations: "pendingOperations"
        }
    }

    /// How many times it can still strike; nil = until cleared.
    var initialBudget: Int? {
        switch self {
        case .status(let fault): fault.count
        case .latency(let fault): fault.count
        case .drop(let fault): fault.count
        case .foreignEdit(let fault): fault.count
        case .stuckVariants(let fault): fault.cascades
        case .pendingOperations(let fault): fault.count
        }
    }
}

/// A fault in force: its id (to list it) and how many strikes it has left (nil = unlimited).
public struct ActiveFault: Sendable, Equatable {
    public var id: String
    public var fault: SandboxFault
    public var remaining: Int?
}
