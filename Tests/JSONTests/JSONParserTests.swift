import JSON
import Testing

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    /// Structural equality, case by case (`==` lets `.integer(1)` equal `.number(1)`).
    func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy(same)
        case (.object(let x), .object(let y)): x.keys.sorted() == y.keys.sorted() && x.allSatisfy { key, value in same(value, y[key]!) }
        default: false
        }
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "x\"y\\z\/\n\u00e9\ud83d\ude00"}, "d": ""} "#)
        #expect(
            same(
                value,
                .object([
                    "a": .array([.integer(1), .integer(-2), .number(3.5), .number(1000), .bool(true), .bool(false), .null]),
                    "b": .object(["c": .string("x\"y\\z/\né😀")]),
                    "d": .string(""),
                ])))
        #expect(same(try parse("0"), .integer(0)))
        #expect(same(try parse("[]"), .array([])))
        #expect(same(try parse(#""π""#), .string("π")))
        // Beyond 64 bits an integer is a double, as close as a double gets.
        #expect(same(try parse("12345678901234567890"), .number(1.2345678901234567e19)))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"",
        "\"a\u{1}b\"", "{a:1}", "[1 2]", "1 2", "{\"a\" 1}", "\"\\u12\"", "1e999",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
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
            #expect(error.description == "invalid literal at byte 6")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func duplicateMembersKeepTheLastValue() throws {
        #expect(same(try parse(#"{"a":1,"a":"two"}"#), .object(["a": .string("two")])))
    }
}
