import JSON
import Rokt

/// Controls as the gateway shows them: `{name, blockedVerticals, blockedDomains, contentHash}`.
public struct ControlsDocument: Codable, Sendable, Equatable {
    public struct Vertical: Codable, Sendable, Equatable {
        public var partnerVerticalId: Int
        public var partnerSubVerticalId: Int
    }

    public var name: String
    public var blockedVerticals: [Vertical]
    public var blockedDomains: [String]
    public var contentHash: String?

    public init(_ controls: MarketplaceControls) {
        name = controls.name
        blockedVerticals = controls.blockedVerticals.map { Vertical(partnerVerticalId: $0.partnerVerticalId, partnerSubVerticalId: $0.partnerSubVerticalId) }
        blockedDomains = controls.domains.map(\.domain)
        contentHash = controls.contentHash
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name),
            "blockedVerticals": .array(
                blockedVerticals.map {
                    .object(["partnerVerticalId": .number(Double($0.partnerVerticalId)), "partnerSubVerticalId": .number(Double($0.partnerSubVerticalId))])
                }),
            "blockedDomains": .array(blockedDomains.map(JSONValue.string)),
        ]
        if let contentHash { members["contentHash"] = .string(contentHash) }
        return .object(members)
    }

    /// The document as stored JSON text (an operation's `result`).
    public var encoded: String { json.serialized }
}
