/// The parts of an `http`/`https` URL the client needs; parsed strictly, without Foundation.
public struct ClientURL: Sendable, Equatable {
    public var scheme: String
    /// Host name or IP literal, without brackets.
    public var host: String
    public var port: Int
    /// Path and query, as sent in the request line.
    public var target: String

    public var isTLS: Bool { scheme == "https" }

    /// `Host` header value: the port only when it is not the scheme's default (RFC 9110 §7.2).
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    public init?(_ string: String) {
        guard let schemeEnd = string.firstRange(of: "://") else { return nil }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        self.scheme = scheme
        var rest = string[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        // Credentials in URLs end up in logs; refuse them rather than send them.
        guard !authority.contains("@"), !authority.isEmpty else { return nil }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                portText = authority[authority.index(after: colon)...]
                authority = authority[..<colon]
            }
            host = authority.lowercased()
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = scheme == "https" ? 443 : 80
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var target = rest.hasPrefix("?") ? "/" + rest : String(rest)
        if target.isEmpty { target = "/" }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        self.target = target
    }
}
