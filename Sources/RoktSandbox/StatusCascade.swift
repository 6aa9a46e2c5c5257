import JSON
/// The state one page variant can be put in by the account-wide switch.
public enum VariantStatus: String, Sendable, Codable, CaseIterable {
    case active, paused
}

/// The account's aggregate over its non-archived variants.
public enum AggregateStatus: String, Sendable, Codable {
    case active, paused, mixed
}

/// The kind of surface a page is.
public enum PageType: String, Sendable, Codable, CaseIterable {
    case confirmation, tracking, returns

    var title: String {
        switch self {
        case .confirmation: "Confirmation"
        case .tracking: "Tracking"
        case .returns: "Returns"
        }
    }
}

/// A page variant, archived ones included (those never appear in a `StatusCascade`).
public struct PageVariant: Sendable, Equatable {
    public var pageVariantId: String
    public var pageId: String
    public var name: String
    public var status: VariantStatus
    public var isArchived: Bool

    public init(pageVariantId: String, pageId: String, name: String, status: VariantStatus, isArchived: Bool = false) {
        self.pageVariantId = pageVariantId
        self.pageId = pageId
        self.name = name
        self.status = status
        self.isArchived = isArchived
    }
}

/// One surface of a merchant: its variants and its layout.
public struct Page: Sendable, Equatable {
    public var pageId: String
    public var type: PageType
    public var name: String
    public var variants: [PageVariant]
    public var layout: Layout
}

/// What `GET/PUT …/status` answer: the aggregate and the per-variant list.
///
/// Guarantees: `variants` lists the non-archived variants only, in page then variant order;
/// `status` is `active` or `paused` when they all agree, `mixed` when they differ, and, for an
/// account without non-archived variants, the last status requested for the account.
public struct StatusCascade: Sendable, Equatable, Encodable {
    public struct Variant: Sendable, Equatable, Encodable {
        public var pageVariantId: String
        public var pageId: String
        public var name: String
        public var status: VariantStatus
    }

    public var accountId: String
    public var status: AggregateStatus
    public var variants: [Variant]

    init(accountId: String, pages: [Page], requested: VariantStatus) {
        self.accountId = accountId
        variants = pages.flatMap(\.variants).filter { !$0.isArchived }.map {
            Variant(pageVariantId: $0.pageVariantId, pageId: $0.pageId, name: $0.name, status: $0.status)
        }
        status = Self.aggregate(variants.map(\.status), whenEmpty: requested)
    }

    static func aggregate(_ statuses: [VariantStatus], whenEmpty: VariantStatus) -> AggregateStatus {
        guard let first = statuses.first else { return whenEmpty == .active ? .active : .paused }
        guard statuses.allSatisfy({ $0 == first }) else { return .mixed }
        return first == .active ? .active : .paused
    }
}

/// The body of `PUT …/status`: exactly `{"status": "active" | "paused"}`.
enum StatusChange {
    static func parse(_ body: JSONValue?) throws(SandboxError) -> VariantStatus {
        guard let body else { throw .validation("The request body is required: {\"status\": \"active\" | \"paused\"}") }
        var reader = try JSONObjectReader(body)
        guard let raw = try reader.string("status") else { throw .validation("status is required (\"active\" or \"paused\")") }
        guard let status = VariantStatus(rawValue: raw) else {
            throw .validation("status must be \"active\" or \"paused\", got \"\(raw)\"")
        }
        try reader.rejectUnknownMembers(allowed: "status")
        return status
    }
}

extension [Page] {
    /// Sets every non-archived variant to `status` except those in `stuck`, which keep theirs
    /// (the injected "cascade failed for these variants" fault).
    mutating func cascade(_ status: VariantStatus, except stuck: Set<String>) {
        for p in indices {
            for v in self[p].variants.indices where !self[p].variants[v].isArchived {
                if !stuck.contains(self[p].variants[v].pageVariantId) { self[p].variants[v].status = status }
            }
        }
    }
}
