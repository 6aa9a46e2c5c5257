import Testing
@testable import Postgres

/// Values: binary parameters decode back to themselves; text forms as the server prints them.
@Suite struct PostgresValueTests {
    typealias B = WireBytes

    /// Encodes as a parameter, then decodes the bytes as a column of that type and format.
    static func roundTrip(_ value: PostgresValue) throws -> PostgresValue {
        let parameter = value.bindParameter
        return try PostgresValue(decoding: parameter.bytes, type: parameter.type, format: parameter.format)
    }

    static func text(_ text: String, _ type: PostgresOID) throws -> PostgresValue {
        try PostgresValue(decoding: Array(text.utf8), type: type, format: .text)
    }

    @Test(arguments: [
        PostgresValue.null, .bool(true), .bool(false), .int16(.min), .int16(.max), .int32(.min), .int32(-1), .int64(.min), .int64(.max), .int64(0),
        .double(-0.5), .double(.infinity), .double(1e300), .text("héllo, wörld"), .text(""), .bytes([]), .bytes([0, 0xFF, 0x5C, 0x78]),
        .timestamp(PostgresTimestamp(microsecondsSince2000: 0)), .timestamp(PostgresTimestamp(microsecondsSince2000: -1)),
        .timestamp(PostgresTimestamp(microsecondsSince2000: 849_750_870_500_000)), .timestamp(.infinity), .timestamp(.negativeInfinity),
        .json(#"{"a":[1,2,{"b":null}]}"#), .uuid(PostgresUUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")!),
    ])
    func parametersRoundTrip(_ value: PostgresValue) throws {
        #expect(try Self.roundTrip(value) == value)
    }

    @Test func parameterFormatsAreBinaryForFixedFormsAndTextForStrings() {
        #expect(PostgresValue.int64(42).bindParameter == PostgresBindParameter(type: .int8, format: .binary, bytes: B.hex("00 00 00 00 00 00 00 2A")))
        #expect(PostgresValue.int64(.min).bindParameter.bytes == B.hex("80 00 00 00 00 00 00 00"))
        #expect(PostgresValue.bool(true).bindParameter == PostgresBindParameter(type: .bool, format: .binary, bytes: [1]))
        #expect(PostgresValue.double(1).bindParameter.bytes == B.hex("3F F0 00 00 00 00 00 00"))
        #expect(PostgresValue.timestamp(PostgresTimestamp(microsecondsSince2000: -1)).bindParameter.bytes == B.hex("FF FF FF FF FF FF FF FF"))
        #expect(PostgresValue.text("x").bindParameter == PostgresBindParameter(type: .text, format: .text, bytes: [0x78]))
        #expect(PostgresValue.json("{}").bindParameter == PostgresBindParameter(type: .jsonb, format: .text, bytes: B.ascii("{}")))
        #expect(PostgresValue.null.bindParameter == PostgresBindParameter(type: .unspecified, format: .text, bytes: nil))
    }

    @Test func nanSurvivesBothFormats() throws {
        #expect(try Self.roundTrip(.double(.nan)).double?.isNaN == true)
        #expect(try Self.text("NaN", .float8).double?.isNaN == true)
    }

    @Test func textFormsAsTheServerPrintsThem() throws {
        #expect(try Self.text("t", .bool) == .bool(true))
        #expect(try Self.text("f", .bool) == .bool(false))
        #expect(try Self.text("-32768", .int2) == .int16(.min))
        #expect(try Self.text("2147483647", .int4) == .int32(.max))
        #expect(try Self.text("-9223372036854775808", .int8) == .int64(.min))
        #expect(try Self.text("9223372036854775807", .int8) == .int64(.max))
        #expect(try Self.text("-Infinity", .float8) == .double(-.infinity))
        #expect(try Self.text("1.5e-07", .float8) == .double(1.5e-7))
        #expect(try Self.text("name", .name) == .text("name"))
        #expect(try Self.text("v", .varchar) == .text("v"))
        #expect(try Self.text(#"{"a": 1}"#, .jsonb) == .json(#"{"a": 1}"#))
        #expect(try Self.text("[]", .json) == .json("[]"))
        #expect(try Self.text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", .uuid).uuid?.description == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        // A type without a case (numeric 1700) is kept as its text.
        #expect(try Self.text("3.14", PostgresOID(1700)) == .text("3.14"))
    }

    @Test func byteaTextIsHexOrEscape() throws {
        #expect(try Self.text(#"\x00ff10"#, .bytea) == .bytes([0, 255, 16]))
        #expect(try Self.text(#"\x"#, .bytea) == .bytes([]))
        #expect(try Self.text(#"\xABcd"#, .bytea) == .bytes([0xAB, 0xCD]))
        // bytea_output = escape: printable bytes, \\ and \nnn octal.
        #expect(try Self.text(#"a\\b\001\377"#, .bytea) == .bytes([97, 92, 98, 1, 255]))
        for bad in [#"\x0"#, #"\xzz"#, #"\1"#, #"\400"#, #"\09"#] {
            #expect(throws: PostgresDecodingError.self) { try Self.text(bad, .bytea) }
        }
    }

    @Test func jsonbBinaryHasVersionByte1() throws {
        #expect(try PostgresValue(decoding: [1] + B.ascii(#"{"k":"v"}"#), type: .jsonb, format: .binary) == .json(#"{"k":"v"}"#))
        #expect(throws: PostgresDecodingError(type: .jsonb, format: .binary, reason: "jsonb version is not 1")) {
            try PostgresValue(decoding: [2] + B.ascii("{}"), type: .jsonb, format: .binary)
        }
        #expect(throws: PostgresDecodingError.self) { try PostgresValue(decoding: [], type: .jsonb, format: .binary) }
        #expect(try PostgresValue(decoding: B.ascii("{}"), type: .json, format: .binary) == .json("{}"))
    }

    @Test func wrongSizesAndValuesAreTypedErrors() {
        let cases: [([UInt8], PostgresOID)] = [
            ([0, 1], .int4), ([0, 0, 0, 0, 0, 0, 0, 0, 0], .int8), ([2], .bool), ([], .bool), ([1, 2, 3], .float8), ([0], .timestamptz), ([1, 2], .uuid),
            ([0xFF], .text), ([0, 0, 0, 0], PostgresOID(1700)),
        ]
        for (bytes, type) in cases {
            #expect(throws: PostgresDecodingError.self, "\(type)") { try PostgresValue(decoding: bytes, type: type, format: .binary) }
        }
        for (text, type) in [("yes", PostgresOID.bool), ("32768", .int2), ("1.5", .int8), ("", .int4), ("inf", .float8), ("not-a-uuid", .uuid), ("2000-01-01", .timestamptz)] {
            #expect(throws: PostgresDecodingError.self, "\(text)") { try Self.text(text, type) }
        }
    }

    @Test func aDecodingErrorNeverQuotesTheValue() {
        do throws(PostgresDecodingError) {
            _ = try PostgresValue(decoding: B.ascii("s3cr3t-token"), type: .int8, format: .text)
            Issue.record("decoded")
        } catch {
            #expect(!error.description.contains("s3cr3t"))
            #expect(error.description == "cannot decode a text value of type 20: not an int8")
        }
    }

    @Test func nullIsNilInEitherFormat() throws {
        #expect(try PostgresValue(decoding: nil, type: .int8, format: .binary) == .null)
        #expect(try PostgresValue(decoding: nil, type: PostgresOID(99999), format: .text).isNull)
    }

    @Test func accessorsWidenIntegersAndReadText() {
        #expect(PostgresValue.int16(-3).int64 == -3)
        #expect(PostgresValue.int32(7).int64 == 7)
        #expect(PostgresValue.json("{}").string == "{}")
        #expect(PostgresValue.text("x").int64 == nil)
    }
}
