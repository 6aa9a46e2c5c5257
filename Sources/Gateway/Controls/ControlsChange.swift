import Rokt

/// What a caller wants done to one merchant's marketplace controls, in the caller's words.
/// Stored with the operation, so its encoding is part of the store's format.
public enum ControlsChange: Codable, Sendable, Equatable {
    case addVertical(VerticalPair)
    /// Removes `vertical` with that sub-vertical, or with every sub-vertical when nil.
    case removeVertical(vertical: Int, subVertical: Int?)
    case addDomain(String)
    case removeDomain(String)
    /// Several adds and removes as one change (PATCH).
    case batch(ControlsBatch)
    /// The whole desired set; `expectedHash` is the contentHash the caller based it on (nil: last write wins).
    case replace(ControlsReplacement)

    /// The operation type named in the API (`controls.add_vertical`, …).
    public var operationType: String {
        switch self {
        case .addVertical: "controls.add_vertical"
        case .removeVertical: "controls.remove_vertical"
        case .addDomain: "controls.add_domain"
        case .removeDomain: "controls.remove_domain"
        case .batch: "controls.patch"
        case .replace: "controls.replace"
        }
    }
}

public struct ControlsBatch: Codable, Sendable, Equatable {
    public var addVerticals: [VerticalPair]
    public var addDomains: [String]
    public var removeVerticals: [VerticalRemoval]
    public var removeDomains: [String]

    public init(addVerticals: [VerticalPair] = [], addDomains: [String] = [], removeVerticals: [VerticalRemoval] = [], removeDomains: [String] = []) {
        self.addVerticals = addVerticals
        self.addDomains = addDomains
        self.removeVerticals = removeVerticals
        self.removeDomains = removeDomains
    }

    public var isEmpty: Bool { addVerticals.isEmpty && addDomains.isEmpty && removeVerticals.isEmpty && removeDomains.isEmpty }
}

public struct VerticalRemoval: Codable, Sendable, Equatable {
    public var vertical: Int
    public var subVertical: Int?
    public init(vertical: Int, subVertical: Int?) { self.vertical = vertical; self.subVertical = subVertical }
}

public struct ControlsReplacement: Codable, Sendable, Equatable {
    public var name: String?
    public var verticals: [VerticalPair]
    public var domains: [String]
    public var expectedHash: String?
    /// The hash came in `If-Match` (a mismatch is 412) rather than the body (409).
    public var viaIfMatch: Bool

    public init(name: String?, verticals: [VerticalPair], domains: [String], expectedHash: String?, viaIfMatch: Bool) {
        self.name = name
        self.verticals = verticals
        self.domains = domains
        self.expectedHash = expectedHash
        self.viaIfMatch = viaIfMatch
    }
}
