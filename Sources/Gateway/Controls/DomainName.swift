/// A blockable domain: a hostname in lower case without a trailing dot
/// (`Competitor.Example.COM.` → `competitor.example.com`).
public struct DomainName: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    /// Why a string is not a hostname, worded for the caller.
    public struct Invalid: Error, Equatable, Sendable {
        public let reason: String
    }

    /// Normalises `raw` or says why it is not a hostname (RFC 1123 §2.1 labels; no scheme,
    /// path, port, spaces or empty labels; at least two labels; not an IP address).
    public init(_ raw: String) throws(Invalid) {
        var text = raw.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { throw Invalid(reason: "is empty") }
        guard text.utf8.count <= 253 else { throw Invalid(reason: "is longer than 253 characters") }
        if text.contains("://") { throw Invalid(reason: "must be a hostname, not a URL (drop the scheme)") }
        if text.contains("/") { throw Invalid(reason: "must be a hostname without a path") }
        if text.contains(":") { throw Invalid(reason: "must be a hostname without a port") }
        if text.contains(where: { $0 == " " || $0 == "\t" }) { throw Invalid(reason: "must not contain spaces") }
        if !text.utf8.allSatisfy({ $0 < 0x80 }) {
            throw Invalid(reason: "must be ASCII; write internationalised names in their xn-- (punycode) form")
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw Invalid(reason: "must have at least two labels (example.com)") }
        for label in labels {
            guard !label.isEmpty else { throw Invalid(reason: "has an empty label") }
            guard label.utf8.count <= 63 else { throw Invalid(reason: "has a label longer than 63 characters") }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                throw Invalid(reason: "may contain only letters, digits, hyphens and dots")
            }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else { throw Invalid(reason: "has a label starting or ending with a hyphen") }
        }
        if labels.last!.allSatisfy(\.isNumber) { throw Invalid(reason: "must be a hostname, not an IP address") }
        value = text
    }
}
