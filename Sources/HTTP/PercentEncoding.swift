/// Percent-encoding of URI components (RFC 3986 §2.1).
///
/// `decode` is strict: a `%` not followed by two hex digits, or escapes that decode to
/// invalid UTF-8, give `nil` rather than a best guess, so that two parties can never read
/// the same bytes as different strings.
public enum PercentEncoding {
    /// Decodes `%XY` escapes (and `+` as a space when `plusAsSpace`, the
    /// `application/x-www-form-urlencoded` rule used by query strings, never by paths).
    /// Returns `nil` on a malformed escape or when the decoded bytes are not UTF-8.
    public static func decode(_ s: String, plusAsSpace: Bool = false) -> String? {
        var s = s
        return s.withUTF8 { decode(utf8: $0, plusAsSpace: plusAsSpace) }
    }

    public static func decode(_ s: Substring, plusAsSpace: Bool = false) -> String? {
        var s = s
        return s.withUTF8 { decode(utf8: $0, plusAsSpace: plusAsSpace) }
    }

    /// The work of `decode`, over contiguous bytes so the router can decode slices of a
    /// path without making a `Substring` of each.
    static func decode(utf8 bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool) -> String? {
        // Fast path: most segments and query values carry no escapes at all.
        guard bytes.contains(where: { $0 == .percent || (plusAsSpace && $0 == .plus) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        // Decoding only ever shrinks, so `bytes.count` is room enough.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { out -> String? in
            var i = 0, n = 0
            while i < bytes.count {
                switch bytes[i] {
                case .percent:
                    guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                    out[n] = hi << 4 | lo
                    i += 3
                case .plus where plusAsSpace:
                    out[n] = .space
                    i += 1
                case let byte:
                    out[n] = byte
                    i += 1
                }
                n += 1
            }
            return String(validating: UnsafeBufferPointer(rebasing: out[..<n]), as: UTF8.self)
        }
    }

    /// Encodes `s` for use as one path segment: every byte except RFC 3986 `pchar`s
    /// (unreserved, sub-delims, `:` and `@`) becomes `%XY` with uppercase hex, so `/`, `?`,
    /// `#` and `%` inside the value can never change the shape of the path.
    public static func encodePathSegment(_ s: String) -> String { encode(s, keeping: isPathSegmentByte) }

    /// Encodes `s` for a query name or value: only RFC 3986 unreserved bytes stay, so `&`, `=`,
    /// `+` and `#` inside the value cannot split or reshape the query.
    public static func encodeQueryComponent(_ s: String) -> String { encode(s, keeping: isUnreservedByte) }

    private static func encode(_ s: String, keeping keep: (UInt8) -> Bool) -> String {
        guard !s.utf8.allSatisfy(keep) else { return s }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count * 3)
        for byte in s.utf8 {
            if keep(byte) {
                bytes.append(byte)
            } else {
                bytes.append(.percent)
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// RFC 3986 unreserved: ALPHA / DIGIT / "-._~".
    private static func isUnreservedByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// `pchar` minus pct-encoded: ALPHA / DIGIT / "-._~" / "!$&'()*+,;=" / ":" / "@".
    private static func isPathSegmentByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
            true
        default:
            false
        }
    }
}

extension UInt8 {
    fileprivate static let percent = UInt8(ascii: "%")
    fileprivate static let plus = UInt8(ascii: "+")
    fileprivate static let space = UInt8(ascii: " ")
}
