import JSON
import Testing

@Suite struct JSONValueTests {
    func roundTrip(_ text: String) throws -> String { try JSONValue.parse(Array(text.utf8)).serialized }

    @Test(arguments: ["12345678901234567", "-9223372036854775808", "9223372036854775807", "1.5", "-0.25", "0", "[1,2.5,-3]"])
    func numbersSurviveARoundTripDigitForDigit(text: String) throws {
        #expect(try roundTrip(text) == text)
    }

    @Test func integersStayExactAndOthersAreDoubles() throws {
        guard case .integer(let big) = try JSONValue.parse(Array("12345678901234567".utf8)) else { Issue.record("not an integer"); return }
        #expect(big == 12_345_678_901_234_567)
        guard case .number(let half) = try JSONValue.parse(Array("1.5".utf8)) else { Issue.record("not a number"); return }
        #expect(half == 1.5)
    }

    /// What both former writers printed: an integral double without `.0` below 10^15, Swift's
    /// shortest form otherwise.
    @Test func doublesPrintAsBefore() {
        #expect(JSONValue.number(3).serialized == "3")
        #expect(JSONValue.number(-0.0).serialized == "0")
        #expect(JSONValue.number(999_999_999_999_999).serialized == "999999999999999")
        #expect(JSONValue.number(1e15).serialized == "1000000000000000.0")
        #expect(JSONValue.number(1e16).serialized == "1e+16")
        #expect(JSONValue.number(0.1).serialized == "0.1")
        #expect(JSONValue.number(1e-7).serialized == "1e-07")
    }

    @Test func equalNumbersAreEqualWhicheverCaseHoldsThem() {
        #expect(JSONValue.integer(5) == .number(5))
        #expect(JSONValue.number(5) == .integer(5))
        #expect(JSONValue.integer(5) != .number(5.5))
        // 2^53 + 1 has no exact double: it equals no double, not even the nearest one.
        #expect(JSONValue.integer(9_007_199_254_740_993) != .number(9_007_199_254_740_992))
        #expect(Set<JSONValue>([.integer(7), .number(7), .string("7")]).count == 2)
        #expect(JSONValue.object(["a": .integer(1)]) == .object(["a": .number(1)]))
        #expect(JSONValue.integer(1) != .bool(true))
    }

    @Test func accessorsReadEitherNumberCase() {
        #expect(JSONValue.integer(42).intValue == 42)
        #expect(JSONValue.number(42).intValue == 42)
        #expect(JSONValue.number(4.2).intValue == nil)
        #expect(JSONValue.integer(3).doubleValue == 3)
        #expect(JSONValue.string("3").intValue == nil)
        #expect(JSONValue.object(["a": .string("x")])["a"]?.stringValue == "x")
    }

    @Test func writerSortsKeysByBytesAndEscapesOnce() {
        let value: JSONValue = .object([
            "b": .array([.integer(1), .number(2.5), .null, .bool(true)]), "B": .object([:]),
            "a": .string("q\"uo\\te\n\r\t\u{1}\u{8}\u{c}é/"),
        ])
        #expect(value.serialized == #"{"B":{},"a":"q\"uo\\te\n\r\t\u0001\b\fé/","b":[1,2.5,null,true]}"#)
        #expect(value.serializedBytes == Array(value.serialized.utf8))
        #expect(JSONString.escape("plain") == #""plain""#)
        #expect(JSONString.escape("a\"b\u{1f}") == #""a\"b\u001f""#)
    }

    @Test func writtenTextParsesBackToTheSameValue() throws {
        let value: JSONValue = .object(["n": .integer(-12), "d": .number(1e300), "s": .string("\u{0}😀"), "l": .array([.object([:])])])
        #expect(try JSONValue.parse(value.serializedBytes) == value)
    }

    @Test func shapeHelpersNameTheMember() throws {
        let members = try JSONValue.object(["id": .integer(3), "name": .null]).members(of: "Thing")
        #expect(try members.required("id", \.intValue) == 3)
        #expect(try members.optional("name", \.stringValue) == nil)
        #expect(throws: JSONShapeError.self) { try members.required("name", \.stringValue) }
        #expect(throws: JSONShapeError.self) { try JSONValue.array([]).members(of: "Thing") }
    }
}
