import Testing
@testable import HTTP

/// A minimal value enum for the parser's tests.
indirect enum TestJSON: JSONBuildable, Equatable {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([TestJSON]), object([String: TestJSON])
    static var jsonNull: TestJSON { .null }
    static func jsonBool(_ value: Bool) -> TestJSON { .bool(value) }
    static func jsonInteger(_ value: Int) -> TestJSON { .integer(value) }
    static func jsonNumber(_ value: Double) -> TestJSON { .number(value) }
    static func jsonString(_ value: String) -> TestJSON { .string(value) }
    static func jsonArray(_ items: [TestJSON]) -> TestJSON { .array(items) }
    static func jsonObject(_ members: [String: TestJSON]) -> TestJSON { .object(members) }
}

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> TestJSON { try JSONParser.parse(Array(text.utf8), as: TestJSON.self) }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "x\"y\\z\/\n\u00e9\ud83d\ude00"}, "d": ""} "#)
        #expect(value == .object([
            "a": .array([.integer(1), .integer(-2), .number(3.5), .number(1000), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("x\"y\\z/\né😀")]),
            "d": .string(""),
        ]))
        #expect(try parse("0") == .integer(0))
        #expect(try parse("[]") == .array([]))
        #expect(try parse(#""π""#) == .string("π"))
        #expect(try parse("12345678901234567890") == .number(12345678901234567890))
    }

    @Test(arguments: ["", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"",
                      "\"a\u{1}b\"", "{a:1}", "[1 2]", "1 2", "{\"a\" 1}", "\"\\u12\"", "1e999"])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0x22], as: TestJSON.self) }
    }

    @Test func boundsNestingDepthInsteadOfExhaustingTheStack() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
        let allowed = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(throws: Never.self) { try parse(allowed) }
    }

    @Test func errorsSayWhere() {
        do {
            _ = try parse(#"{"a": tru}"#)
            Issue.record("expected an error")
        } catch let error as JSONSyntaxError {
            #expect(error.offset == 6)
            #expect(error.description.contains("literal"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
