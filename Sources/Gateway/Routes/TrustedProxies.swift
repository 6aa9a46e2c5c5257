import HTTP
#if canImport(Glibc)
    import Glibc
#endif

/// The proxies whose word on the client's address the gateway takes (TRUSTED_PROXIES, CIDRs).
/// The client address of a request is its peer, unless the peer is a trusted proxy: then
/// `X-Forwarded-For` (or, when that is absent, RFC 7239 `Forwarded: for=`) is walked from the
/// right, past trusted hops, and the first untrusted address is the client (nginx's
/// `real_ip_recursive`). Only the trusted proxies' own entries are believed: anything left of
/// the first untrusted hop is whatever the client chose to send.
///
/// A hop that names no address (`unknown`, an obfuscated `_name`) ends the walk at the nearest
/// address known, the proxy that wrote it; a header that cannot be read at all counts for nothing
/// and the peer is the client. Empty (the default): no proxy is trusted, the peer is the client.
public struct TrustedProxies: Sendable, Equatable {
    public let ranges: [NetworkRange]

    public init(_ ranges: [NetworkRange] = []) { self.ranges = ranges }

    public struct Invalid: Error, Equatable {
        public let message: String
    }

    /// A comma-separated list of CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address is one host.
    public init(parsing raw: String) throws(Invalid) {
        var ranges: [NetworkRange] = []
        for item in raw.split(separator: ",") {
            let text = item.trimmingHTTPWhitespace()
            if text.isEmpty { continue }
            guard let range = NetworkRange(parsing: text) else {
                throw Invalid(message: "must list CIDRs like 10.0.0.0/8 or 2001:db8::/32, got \"\(text)\"")
            }
            ranges.append(range)
        }
        self.init(ranges)
    }

    public func trusts(_ address: IPAddress) -> Bool { ranges.contains { $0.contains(address) } }

    /// The client's address for a request from `peer` (`ip:port` or `[ipv6]:port`, as the server
    /// reports it), as text; the peer as given when it is not an IP address.
    public func clientAddress(peer: String?, headers: HTTPHeaders) -> String? {
        guard let peer else { return nil }
        guard let address = IPAddress(peer: peer) else { return peer }
        return client(of: address, headers: headers).description
    }

    func client(of peer: IPAddress, headers: HTTPHeaders) -> IPAddress {
        guard trusts(peer), let hops = Self.hops(headers) else { return peer }
        var nearest = peer
        for hop in hops.reversed() {
            guard let address = hop else { return nearest }
            guard trusts(address) else { return address }
            nearest = address
        }
        return nearest  // every hop is a trusted proxy: the leftmost is as far as anyone can tell
    }

    /// The hops a header lists, left to right (nil: an unknown or obfuscated node); nil when
    /// neither header is present or the one read is malformed.
    static func hops(_ headers: HTTPHeaders) -> [IPAddress?]? {
        let forwardedFor = headers.values("X-Forwarded-For")
        if !forwardedFor.isEmpty {
            var hops: [IPAddress?] = []
            for value in forwardedFor {
                for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let hop = node(item.trimmingHTTPWhitespace()) else { return nil }
                    hops.append(hop)
                }
            }
            return hops
        }
        let forwarded = headers.values("Forwarded")
        guard !forwarded.isEmpty else { return nil }
        var hops: [IPAddress?] = []
        for value in forwarded {
            guard let elements = ForwardedHeader.elements(value) else { return nil }
            for element in elements {
                // An element without `for` says nothing of who sent it: an unknown node.
                guard let value = element.first(where: { $0.name.lowercased() == "for" })?.value else { hops.append(.none); continue }
                guard let hop = node(value) else { return nil }
                hops.append(hop)
            }
        }
        return hops
    }

    /// One node (RFC 7239 §6): an address with an optional port (IPv6 in brackets when a port
    /// follows), `unknown`, or an obfuscated `_identifier`. `.some(nil)` is a node with no
    /// address; nil is not a node at all.
    static func node(_ text: String) -> IPAddress?? {
        if text.lowercased() == "unknown" || (text.hasPrefix("_") && text.utf8.count > 1) { return .some(nil) }
        if let address = IPAddress(text) { return address }
        if let address = IPAddress(peer: text) { return address }
        return nil
    }
}

/// RFC 7239 §4: `for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`, split outside quoted strings.
enum ForwardedHeader {
    /// The elements' parameters, or nil when the value is malformed.
    static func elements(_ value: String) -> [[(name: String, value: String)]]? {
        var elements: [[(name: String, value: String)]] = []
        var pairs: [(name: String, value: String)] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        func endPair() -> Bool {
            let text = current.trimmingHTTPWhitespace()
            current = ""
            if text.isEmpty { return true }
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return false }
            var value = String(text[text.index(after: equals)...])
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { return false }
                value = String(value.dropFirst().dropLast())
            }
            pairs.append((String(text[..<equals]), value))
            return true
        }
        for character in value {
            if escaped {
                current.append(character)
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                current.append(character)
            } else if !inQuotes && (character == ";" || character == ",") {
                guard endPair() else { return nil }
                if character == "," {
                    if !pairs.isEmpty { elements.append(pairs) }
                    pairs = []
                }
            } else {
                current.append(character)
            }
        }
        guard !inQuotes, !escaped, endPair() else { return nil }
        if !pairs.isEmpty { elements.append(pairs) }
        return elements
    }
}

/// A CIDR block: an address and a prefix length.
public struct NetworkRange: Sendable, Equatable {
    public let base: IPAddress
    public let prefixLength: Int

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (one host).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let base = IPAddress(String(parts[0])) else { return nil }
        let maximum = base.bytes.count * 8
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let length = Int(parts[1]),
                length <= maximum
            else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        self.base = base
    }

    public func contains(_ address: IPAddress) -> Bool {
        switch (base.value, address.value) {
        case (.v4(let base), .v4(let candidate)): NetworkAddressClass.matches(candidate, base, prefixLength)
        case (.v6(let base), .v6(let candidate)): NetworkAddressClass.matches(candidate, base, prefixLength)
        default: false
        }
    }
}

/// An IPv4 or IPv6 address. IPv4-mapped IPv6 (`::ffff:192.0.2.1`, how a dual-stack socket
/// reports an IPv4 peer) is the IPv4 address, so one CIDR covers both forms.
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    enum Value { case v4(UInt32), v6(UInt128) }

    var value: Value {
        bytes.count == 4
            ? .v4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) : .v6(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
    }

    /// A numeric address literal (no brackets, no port, no zone).
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF ? Array(raw[12...]) : raw
    }

    /// An address with a port as a socket or a proxy writes it: `192.0.2.1:80`, `[2001:db8::1]:80`, `[2001:db8::1]`.
    public init?(peer text: String) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && Self.isPort(rest.dropFirst())) else { return nil }
            self.init(String(text[text.index(after: text.startIndex)..<close]))
        } else if let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].firstIndex(of: ":") == nil {
            guard Self.isPort(text[text.index(after: colon)...]) else { return nil }
            self.init(String(text[..<colon]))
            guard bytes.count == 4 else { return nil }
        } else {
            return nil
        }
    }

    private static func isPort(_ text: Substring) -> Bool {
        (1...5).contains(text.utf8.count) && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    public var description: String {
        var copy = bytes
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = copy.withUnsafeMutableBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
