/// Why a column value could not be decoded. It names the type and format, never the value:
/// a column may hold a secret.
public struct PostgresDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let type: PostgresOID
    public let format: PostgresFormat
    public let reason: String
    /// The column's name, when decoded as part of a `PostgresRow`.
    public var column: String?

    public init(type: PostgresOID, format: PostgresFormat, reason: String, column: String? = nil) {
        self.type = type
        self.format = format
        self.reason = reason
        self.column = column
    }

    public var description: String {
        let what = column.map { "column \($0), a \(format) value of type \(type)" } ?? "a \(format) value of type \(type)"
        return "cannot decode \(what): \(reason)"
    }
}

/// A parameter as Bind carries it: Parse gets `type`, Bind gets `format` and `bytes`.
public struct PostgresBindParameter: Equatable, Sendable {
    public var type: PostgresOID
    public var format: PostgresFormat
    /// nil is NULL.
    public var bytes: [UInt8]?
}

extension PostgresValue {
    /// Decodes a column of `type` in `format` (nil bytes are NULL). A type without a case
    /// here decodes as `.text` when it arrives as text, and is an error in binary.
    public init(decoding bytes: [UInt8]?, type: PostgresOID, format: PostgresFormat) throws(PostgresDecodingError) {
        guard let bytes else {
            self = .null
            return
        }
        func fail(_ reason: String) -> PostgresDecodingError { PostgresDecodingError(type: type, format: format, reason: reason) }
        switch format {
        case .binary: self = try Self.decodeBinary(bytes, type: type, fail)
        case .text:
            guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("not UTF-8") }
            self = try Self.decodeText(text, type: type, fail)
        }
    }

    /// Binary send/recv forms (each type's *send function in the server): big-endian integers,
    /// IEEE 754 doubles, the raw bytes of bytea and of text types.
    private static func decodeBinary(_ bytes: [UInt8], type: PostgresOID, _ fail: (String) -> PostgresDecodingError) throws(PostgresDecodingError) -> PostgresValue {
        func integer(_ size: Int) throws(PostgresDecodingError) -> UInt64 {
            guard bytes.count == size else { throw fail("\(bytes.count) bytes, expected \(size)") }
            return bytes.reduce(0) { $0 << 8 | UInt64($1) }
        }
        func utf8(_ slice: ArraySlice<UInt8>) throws(PostgresDecodingError) -> String {
            guard let text = String(validating: slice, as: UTF8.self) else { throw fail("not UTF-8") }
            return text
        }
        switch type {
        case .bool:
            guard bytes.count == 1, bytes[0] <= 1 else { throw fail("not a 0 or 1 byte") }
            return .bool(bytes[0] == 1)
        case .int2: return .int16(Int16(bitPattern: UInt16(try integer(2))))
        case .int4: return .int32(Int32(bitPattern: UInt32(try integer(4))))
        case .int8: return .int64(Int64(bitPattern: try integer(8)))
        case .float8: return .double(Double(bitPattern: try integer(8)))
        case .timestamptz: return .timestamp(PostgresTimestamp(microsecondsSince2000: Int64(bitPattern: try integer(8))))
        case .bytea: return .bytes(bytes)
        case .text, .varchar, .name: return .text(try utf8(bytes[...]))
        case .json: return .json(try utf8(bytes[...]))
        case .jsonb:
            // jsonb_send: a format version byte (1, the only one) before the JSON text.
            guard bytes.first == 1 else { throw fail("jsonb version is not 1") }
            return .json(try utf8(bytes.dropFirst()))
        case .uuid:
            guard let uuid = PostgresUUID(bytes: bytes) else { throw fail("\(bytes.count) bytes, expected 16") }
            return .uuid(uuid)
        default: throw fail("no binary decoder for this type")
        }
    }

    /// Text output forms (each type's *out function), as printed with DateStyle ISO.
    private static func decodeText(_ text: String, type: PostgresOID, _ fail: (String) -> PostgresDecodingError) throws(PostgresDecodingError) -> PostgresValue {
        switch type {
        case .bool:
            switch text {
            case "t": return .bool(true)
            case "f": return .bool(false)
            default: throw fail("not t or f")
            }
        case .int2:
            guard let v = Int16(text) else { throw fail("not an int2") }
            return .int16(v)
        case .int4:
            guard let v = Int32(text) else { throw fail("not an int4") }
            return .int32(v)
        case .int8:
            guard let v = Int64(text) else { throw fail("not an int8") }
            return .int64(v)
        case .float8:
            switch text {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            default:
                guard let v = Double(text), v.isFinite else { throw fail("not a float8") }
                return .double(v)
            }
        case .timestamptz:
            guard let timestamp = PostgresTimestamp(isoText: text) else { throw fail("not an ISO timestamptz (DateStyle must be ISO)") }
            return .timestamp(timestamp)
        case .bytea:
            guard let bytes = decodeByteaText(Array(text.utf8)) else { throw fail("not bytea hex or escape output") }
            return .bytes(bytes)
        case .json, .jsonb: return .json(text)
        case .uuid:
            guard let uuid = PostgresUUID(text) else { throw fail("not a uuid") }
            return .uuid(uuid)
        default: return .text(text)
        }
    }

    /// bytea output (datatype-binary): hex `\x0a1b…` (the default since 9.0) or, with
    /// `bytea_output = escape`, printable bytes with `\\` and `\nnn` octal escapes.
    static func decodeByteaText(_ text: [UInt8]) -> [UInt8]? {
        let backslash = UInt8(ascii: "\\")
        if text.count >= 2, text[0] == backslash, text[1] == UInt8(ascii: "x") {
            guard text.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.count / 2 - 1)
            var i = 2
            while i < text.count {
                guard let high = PostgresHex.value(of: text[i]), let low = PostgresHex.value(of: text[i + 1]) else { return nil }
                bytes.append(high << 4 | low)
                i += 2
            }
            return bytes
        }
        var bytes: [UInt8] = []
        var i = 0
        while i < text.count {
            guard text[i] == backslash else {
                bytes.append(text[i])
                i += 1
                continue
            }
            if i + 1 < text.count, text[i + 1] == backslash {
                bytes.append(backslash)
                i += 2
                continue
            }
            guard i + 3 < text.count else { return nil }
            let digits = text[(i + 1)...(i + 3)].map { Int($0) - Int(UInt8(ascii: "0")) }
            guard digits.allSatisfy({ (0...7).contains($0) }), digits[0] <= 3 else { return nil }
            bytes.append(UInt8(digits[0] * 64 + digits[1] * 8 + digits[2]))
            i += 4
        }
        return bytes
    }

    /// This value as a Bind parameter. Binary where the form is fixed and exact (bool,
    /// integers, float8, bytea, timestamptz, uuid): no text to parse, no precision or time
    /// zone lost. Text for strings and JSON, whose binary form is their text anyway; JSON is
    /// typed jsonb so the server parses and validates it. NULL is untyped so it fits any column.
    public var bindParameter: PostgresBindParameter {
        func binary(_ type: PostgresOID, _ value: UInt64, size: Int) -> PostgresBindParameter {
            PostgresBindParameter(type: type, format: .binary, bytes: (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> UInt64($0 * 8)) })
        }
        switch self {
        case .null: return PostgresBindParameter(type: .unspecified, format: .text, bytes: nil)
        case .bool(let v): return PostgresBindParameter(type: .bool, format: .binary, bytes: [v ? 1 : 0])
        case .int16(let v): return binary(.int2, UInt64(UInt16(bitPattern: v)), size: 2)
        case .int32(let v): return binary(.int4, UInt64(UInt32(bitPattern: v)), size: 4)
        case .int64(let v): return binary(.int8, UInt64(bitPattern: v), size: 8)
        case .double(let v): return binary(.float8, v.bitPattern, size: 8)
        case .timestamp(let v): return binary(.timestamptz, UInt64(bitPattern: v.microsecondsSince2000), size: 8)
        case .bytes(let v): return PostgresBindParameter(type: .bytea, format: .binary, bytes: v)
        case .uuid(let v): return PostgresBindParameter(type: .uuid, format: .binary, bytes: v.bytes)
        case .text(let v): return PostgresBindParameter(type: .text, format: .text, bytes: Array(v.utf8))
        case .json(let v): return PostgresBindParameter(type: .jsonb, format: .text, bytes: Array(v.utf8))
        }
    }
}
