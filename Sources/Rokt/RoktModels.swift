import JSON
/// Marketplace controls of one managed account, exactly as Rokt sends and takes them.
/// A PUT replaces the whole value (SET semantics): always GET → modify → PUT.
public struct MarketplaceControls: Codable, Sendable, Equatable {
    public var name: String
    public var blockedVerticals: [BlockedVertical]
    public var domains: [BlockedDomain]
    /// The version Rokt computed for this state; sent back on PUT for optimistic concurrency.
    public var contentHash: String?

    public init(name: String, blockedVerticals: [BlockedVertical] = [], domains: [BlockedDomain] = [], contentHash: String? = nil) {
        self.name = name
        self.blockedVerticals = blockedVerticals
        self.domains = domains
        self.contentHash = contentHash
    }

    /// Same blocks, whatever the order and the hash: what decides whether a PUT is needed.
    public func sameBlocks(as other: MarketplaceControls) -> Bool {
        name == other.name
            && Set(blockedVerticals.map(\.pair)) == Set(other.blockedVerticals.map(\.pair))
            && Set(domains.map(\.domain)) == Set(other.domains.map(\.domain))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        blockedVerticals = try container.decodeIfPresent([BlockedVertical].self, forKey: .blockedVerticals) ?? []
        domains = try container.decodeIfPresent([BlockedDomain].self, forKey: .domains) ?? []
        contentHash = try container.decodeIfPresent(String.self, forKey: .contentHash)
    }
}

/// A blocked (partner vertical, partner sub-vertical) pair.
public struct BlockedVertical: Codable, Sendable, Equatable, Hashable {
    public var partnerVerticalId: Int
    public var partnerSubVerticalId: Int
    public var policy: String

    public init(partnerVerticalId: Int, partnerSubVerticalId: Int, policy: String = "Block") {
        self.partnerVerticalId = partnerVerticalId
        self.partnerSubVerticalId = partnerSubVerticalId
        self.policy = policy
    }

    public var pair: VerticalPair { VerticalPair(partnerVerticalId, partnerSubVerticalId) }
}

/// The identity of a vertical block.
public struct VerticalPair: Hashable, Sendable, Codable {
    public var vertical: Int
    public var subVertical: Int
    public init(_ vertical: Int, _ subVertical: Int) { self.vertical = vertical; self.subVertical = subVertical }
}

/// A blocked domain (a lower-case hostname).
public struct BlockedDomain: Codable, Sendable, Equatable, Hashable {
    public var domain: String
    public var policy: String
    public init(domain: String, policy: String = "Block") { self.domain = domain; self.policy = policy }
}

/// The account-wide placement switch.
public enum PlacementStatus: String, Codable, Sendable, Equatable {
    case active, paused
}

/// The aggregate Rokt reports over non-archived variants.
public enum CascadeStatus: String, Codable, Sendable, Equatable {
    case active, paused, mixed
}

/// The status of every (non-archived) page variant of an account and their aggregate.
public struct StatusCascade: Codable, Sendable, Equatable {
    public var accountId: String?
    public var status: CascadeStatus
    public var variants: [VariantStatus]

    public init(accountId: String?, status: CascadeStatus, variants: [VariantStatus]) {
        self.accountId = accountId
        self.status = status
        self.variants = variants
    }

    /// Variants whose status is not `desired`: the stuck ones after a failed cascade.
    public func variants(notIn desired: PlacementStatus) -> [VariantStatus] {
        variants.filter { $0.status != desired.rawValue }
    }
}

public struct VariantStatus: Codable, Sendable, Equatable {
    public var pageVariantId: String
    public var pageId: String?
    public var name: String?
    public var status: String
}

/// A long-running write as `GET /v1/partnership/operations/{id}` reports it. Rokt's docs do not
/// fix the field naming its progress, so `status` and `state` are both read.
public struct RoktOperation: Codable, Sendable, Equatable, JSONValueRepresentable {
    public var operationId: String?
    public var status: String
    /// The write's would-be response once finished, when Rokt includes it.
    public var result: JSONValue?
    public var error: JSONValue?

    enum CodingKeys: String, CodingKey { case operationId, status, state, result, error }

    public init(operationId: String?, status: String, result: JSONValue? = nil, error: JSONValue? = nil) {
        self.operationId = operationId
        self.status = status
        self.result = result
        self.error = error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        operationId = try container.decodeIfPresent(String.self, forKey: .operationId)
        guard let progress = try container.decodeIfPresent(String.self, forKey: .status) ?? container.decodeIfPresent(String.self, forKey: .state) else {
            throw DecodingError.keyNotFound(CodingKeys.status, .init(codingPath: decoder.codingPath, debugDescription: "operation without status or state"))
        }
        status = progress
        result = try container.decodeIfPresent(JSONValue.self, forKey: .result)
        error = try container.decodeIfPresent(JSONValue.self, forKey: .error)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(operationId, forKey: .operationId)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(result, forKey: .result)
        try container.encodeIfPresent(error, forKey: .error)
    }

    /// The operation id, its progress under `status` or `state` (any case), the result and error
    /// as sent; the id may be `operationId`, `operation_id` or `id`, a string or a number.
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "operation")
        let named = try members.lenient("operationId", \.idValue), bare = try members.lenient("id", \.idValue)
        operationId = named ?? bare
        let status = try members.lenient("status", \.stringValue), state = try members.lenient("state", \.stringValue)
        guard let progress = status ?? state else { throw JSONShapeError("operation without status or state") }
        self.status = progress
        result = members.member("result")
        error = members.member("error")
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["status": .string(status)]
        if let operationId { members["operationId"] = .string(operationId) }
        if let result { members["result"] = result }
        if let error { members["error"] = error }
        return .object(members)
    }

    public var isFinished: Bool { !["pending", "running", "in_progress", "queued"].contains(status.lowercased()) }
    public var isSucceeded: Bool { ["succeeded", "success", "completed", "done"].contains(status.lowercased()) }
}

// MARK: JSONValue conversions (the same shapes as the Codable ones, without JSONDecoder)

extension MarketplaceControls: JSONValueRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "marketplace controls")
        name = try members.lenient("name", \.stringValue) ?? ""
        blockedVerticals = try members.lenientModels("blockedVerticals", as: BlockedVertical.self) ?? []
        domains = try members.lenientModels("domains", as: BlockedDomain.self) ?? []
        // An opaque version: sent back exactly as received, so a number is kept as its digits.
        contentHash = try members.lenient("contentHash", \.idValue)
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name),
            "blockedVerticals": .array(blockedVerticals.map(\.jsonValue)),
            "domains": .array(domains.map(\.jsonValue)),
        ]
        if let contentHash { members["contentHash"] = .string(contentHash) }
        return .object(members)
    }
}

extension BlockedVertical: JSONValueRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "blocked vertical")
        partnerVerticalId = try members.lenientRequired("partnerVerticalId", \.lenientIntValue)
        partnerSubVerticalId = try members.lenientRequired("partnerSubVerticalId", \.lenientIntValue)
        // Every entry of the list is a block; the policy is informative when absent.
        policy = try members.lenient("policy", \.stringValue) ?? "Block"
    }

    public var jsonValue: JSONValue {
        .object([
            "partnerVerticalId": .number(Double(partnerVerticalId)), "partnerSubVerticalId": .number(Double(partnerSubVerticalId)),
            "policy": .string(policy),
        ])
    }
}

extension BlockedDomain: JSONValueRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        // A bare string is a domain too.
        if case .string(let domain) = json {
            self.domain = domain
            policy = "Block"
            return
        }
        let members = try json.members(of: "blocked domain")
        domain = try members.lenientRequired("domain", \.stringValue)
        policy = try members.lenient("policy", \.stringValue) ?? "Block"
    }

    public var jsonValue: JSONValue { .object(["domain": .string(domain), "policy": .string(policy)]) }
}

extension StatusCascade: JSONValueRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "status")
        accountId = try members.lenient("accountId", \.idValue)
        status = try members.lenientRequired("status") { $0.stringValue.flatMap { CascadeStatus(rawValue: $0.lowercased()) } }
        guard let variants = try members.lenientModels("variants", as: VariantStatus.self) else { throw JSONShapeError("variants: missing") }
        self.variants = variants
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["status": .string(status.rawValue), "variants": .array(variants.map(\.jsonValue))]
        if let accountId { members["accountId"] = .string(accountId) }
        return .object(members)
    }
}

extension VariantStatus: JSONValueRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "variant")
        pageVariantId = try members.lenientRequired("pageVariantId", \.idValue)
        pageId = try members.lenient("pageId", \.idValue)
        name = try members.lenient("name", \.stringValue)
        status = try members.lenientRequired("status") { $0.stringValue?.lowercased() }
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["pageVariantId": .string(pageVariantId), "status": .string(status)]
        if let pageId { members["pageId"] = .string(pageId) }
        if let name { members["name"] = .string(name) }
        return .object(members)
    }
}
