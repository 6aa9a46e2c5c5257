/// A parameter or column value of the types the gateway's store uses.
///
/// Decoded from either format (`init(decoding:type:format:)`), since the server answers in the
/// format Bind asked for and in text for the simple query protocol. Encoded as parameters by
/// `bindParameter`.
public enum PostgresValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    /// text, varchar, name, and any type without a case here when it arrives as text.
    case text(String)
    case bytes([UInt8])
    case timestamp(PostgresTimestamp)
    /// json or jsonb: the document's text (sent as jsonb).
    case json(String)
    case uuid(PostgresUUID)

    public var isNull: Bool { self == .null }

    /// Any integer case, widened.
    public var int64: Int64? {
        switch self {
        case .int16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .int64(let v): v
        default: nil
        }
    }

    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var double: Double? { if case .double(let v) = self { v } else { nil } }
    /// Text or a JSON document's text.
    public var string: String? {
        switch self {
        case .text(let v), .json(let v): v
        default: nil
        }
    }
    public var bytes: [UInt8]? { if case .bytes(let v) = self { v } else { nil } }
    public var timestamp: PostgresTimestamp? { if case .timestamp(let v) = self { v } else { nil } }
    public var uuid: PostgresUUID? { if case .uuid(let v) = self { v } else { nil } }
}

/// A uuid's 16 bytes; `description` is the canonical lower-case 8-4-4-4-12 form.
public struct PostgresUUID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// nil unless exactly 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the form the server prints (8-4-4-4-12 hex digits, either case).
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < 36 {
            if [8, 13, 18, 23].contains(i) {
                guard utf8[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let high = PostgresHex.value(of: utf8[i]), let low = PostgresHex.value(of: utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        self.bytes = bytes
    }

    public var description: String {
        var text = ""
        for (i, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(i) { text += "-" }
            text += PostgresHex.twoDigits(byte)
        }
        return text
    }
}

/// Hex digits as bytea's and uuid's text forms write them.
enum PostgresHex {
    static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func twoDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}
