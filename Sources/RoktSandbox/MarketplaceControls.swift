import JSON
/// One blocked vertical: a pair of the partner's taxonomy that Rokt translates server-side.
public struct BlockedVertical: Sendable, Hashable, Comparable, Codable {
    public var partnerVerticalId: Int
    public var partnerSubVerticalId: Int
    /// Always `"Block"`, the only policy V1 knows.
    public var policy: String

    public init(partnerVerticalId: Int, partnerSubVerticalId: Int, policy: String = "Block") {
        self.partnerVerticalId = partnerVerticalId
        self.partnerSubVerticalId = partnerSubVerticalId
        self.policy = policy
    }

    public static func < (a: BlockedVertical, b: BlockedVertical) -> Bool {
        (a.partnerVerticalId, a.partnerSubVerticalId) < (b.partnerVerticalId, b.partnerSubVerticalId)
    }
}

/// One blocked domain, stored as a lower-case hostname without a trailing dot.
public struct BlockedDomain: Sendable, Hashable, Comparable, Codable {
    public var domain: String
    public var policy: String

    public init(domain: String, policy: String = "Block") {
        self.domain = domain
        self.policy = policy
    }

    public static func < (a: BlockedDomain, b: BlockedDomain) -> Bool { a.domain < b.domain }
}

/// A merchant's marketplace controls list.
///
/// Guarantees: the lists are sets (no duplicates) kept in canonical order (verticals by
/// vertical then sub-vertical, domains alphabetically), so two states with the same content
/// are equal and have the same `contentHash`; any change of name, verticals or domains
/// changes the hash (see `ContentHash`).
public struct MarketplaceControls: Sendable, Equatable {
    public var name: String
    public private(set) var blockedVerticals: [BlockedVertical]
    public private(set) var domains: [BlockedDomain]

    public init(name: String, blockedVerticals: [BlockedVertical] = [], domains: [BlockedDomain] = []) {
        self.name = name
        self.blockedVerticals = Array(Set(blockedVerticals)).sorted()
        self.domains = Array(Set(domains)).sorted()
    }

    public var contentHash: String { ContentHash.of(self) }
}

/// The optimistic-concurrency token of a controls list: `h_` + 16 hex digits of FNV-1a/64
/// over a canonical, length-prefixed encoding of name, verticals and domains.
///
/// A pure function of the state: it changes whenever the state changes and only then (a
/// state that returns to an earlier value gets the earlier hash back).
public enum ContentHash {
    public static func of(_ controls: MarketplaceControls) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ string: String) {
            for byte in "\(string.utf8.count):".utf8 { mix(byte) }
            for byte in string.utf8 { mix(byte) }
        }
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        feed(controls.name)
        feed("verticals:\(controls.blockedVerticals.count)")
        for vertical in controls.blockedVerticals {
            feed("\(vertical.partnerVerticalId)/\(vertical.partnerSubVerticalId)/\(vertical.policy)")
        }
        feed("domains:\(controls.domains.count)")
        for domain in controls.domains { feed("\(domain.domain)/\(domain.policy)") }
        let hex = String(hash, radix: 16)
        return "h_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Which partner (vertical, sub-vertical) pairs Rokt can translate to its own taxonomy. A pair
/// outside the table cannot be blocked: the PUT is a 400 naming the pair.
public struct PartnerVerticalMapping: Sendable, Equatable {
    public var verticals: ClosedRange<Int>
    public var subVerticals: ClosedRange<Int>

    public init(verticals: ClosedRange<Int>, subVerticals: ClosedRange<Int>) {
        self.verticals = verticals
        self.subVerticals = subVerticals
    }

    /// Verticals 1500–1599 with sub-verticals 1600–1699.
    public static let demo = PartnerVerticalMapping(verticals: 1500...1599, subVerticals: 1600...1699)

    public func isMapped(_ vertical: BlockedVertical) -> Bool {
        verticals.contains(vertical.partnerVerticalId) && subVerticals.contains(vertical.partnerSubVerticalId)
    }

    var summary: String {
        "verticals \(verticals.lowerBound)–\(verticals.upperBound) with sub-verticals \(subVerticals.lowerBound)–\(subVerticals.upperBound)"
    }
}

/// The body of `PUT …/marketplacecontrolslists`, validated.
///
/// SET semantics: an absent or `null` `blockedVerticals`/`domains` means "none" (the list is
/// cleared, as the docs' wrong.json example shows); an absent `name` keeps the current name;
/// an absent `contentHash` means last write wins. Duplicates collapse. Unknown members are a
/// 400 naming them.
struct ControlsReplacement: Sendable, Equatable {
    var name: String?
    var blockedVerticals: [BlockedVertical]
    var domains: [BlockedDomain]
    var contentHash: String?

    static let allowedMembers = "name, blockedVerticals, domains, contentHash"
    static let maxEntries = 1000

    static func parse(_ body: JSONValue?, mapping: PartnerVerticalMapping) throws(SandboxError) -> ControlsReplacement {
        guard let body else { throw .validation("The request body is required: {name, blockedVerticals, domains, contentHash?}") }
        var reader = try JSONObjectReader(body)
        let name = try reader.string("name")
        if let name, name.allSatisfy(\.isWhitespace) || name.count > 200 {
            throw .validation("name must be 1 to 200 characters")
        }
        let contentHash = try reader.string("contentHash")
        var verticals: [BlockedVertical] = []
        let rawVerticals = try reader.array("blockedVerticals") ?? []
        guard rawVerticals.count <= maxEntries else { throw .validation("blockedVerticals has more than \(maxEntries) entries") }
        for (index, element) in rawVerticals.enumerated() {
            var entry = try JSONObjectReader(element, path: "blockedVerticals[\(index)]")
            let vertical = try entry.requiredInteger("partnerVerticalId")
            let subVertical = try entry.requiredInteger("partnerSubVerticalId")
            try requireBlockPolicy(&entry)
            try entry.rejectUnknownMembers(allowed: "partnerVerticalId, partnerSubVerticalId, policy")
            verticals.append(BlockedVertical(partnerVerticalId: vertical, partnerSubVerticalId: subVertical))
        }
        var domains: [BlockedDomain] = []
        let rawDomains = try reader.array("domains") ?? []
        guard rawDomains.count <= maxEntries else { throw .validation("domains has more than \(maxEntries) entries") }
        for (index, element) in rawDomains.enumerated() {
            var entry = try JSONObjectReader(element, path: "domains[\(index)]")
            let raw = try entry.requiredString("domain")
            guard let domain = Hostname.normalize(raw) else {
                throw .validation("domains[\(index)].domain \"\(raw)\" is not a hostname (no scheme, path, port, wildcard or IP address)")
            }
            try requireBlockPolicy(&entry)
            try entry.rejectUnknownMembers(allowed: "domain, policy")
            domains.append(BlockedDomain(domain: domain))
        }
        try reader.rejectUnknownMembers(allowed: allowedMembers)
        // Shape first, then translation: an unmapped pair is reported only for a well-formed body.
        for (index, vertical) in verticals.enumerated() where !mapping.isMapped(vertical) {
            throw SandboxError(
                status: 400, code: "unmapped_vertical",
                message: "blockedVerticals[\(index)]: partner vertical \(vertical.partnerVerticalId)/\(vertical.partnerSubVerticalId) "
                    + "(partnerVerticalId/partnerSubVerticalId) has no mapping; mapped are \(mapping.summary)")
        }
        return ControlsReplacement(name: name, blockedVerticals: verticals, domains: domains, contentHash: contentHash)
    }

    private static func requireBlockPolicy(_ entry: inout JSONObjectReader) throws(SandboxError) {
        guard let policy = try entry.string("policy") else { throw .validation("\(entry.name("policy")) is required and must be \"Block\"") }
        guard policy == "Block" else { throw .validation("\(entry.name("policy")) must be \"Block\", got \"\(policy)\"") }
    }
}

/// Hostname rules for blocked domains (RFC 1123 labels).
enum Hostname {
    /// The lower-case hostname without a trailing dot, or nil when `raw` is not a hostname:
    /// at least two labels of 1–63 letters, digits or inner hyphens, 253 characters at most,
    /// and a top-level label that is not all digits (so IPv4 literals are refused).
    static func normalize(_ raw: String) -> String? {
        var host = raw.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty, host.utf8.count <= 253 else { return nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return nil }
            guard bytes.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }) else { return nil }
        }
        guard let top = labels.last, !top.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return host
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
