import JSON
import Testing
@testable import Rokt

/// Rokt's numbers reach the gateway digit for digit: an id or version sent as a number beyond
/// a double's 53 bits is not rounded.
@Suite struct ExactIntegerTests {
    @Test func aNumericContentHashKeepsEveryDigit() throws {
        let text = #"{"name":"n","blockedVerticals":[],"domains":[],"contentHash":12345678901234567}"#
        let controls = try MarketplaceControls(json: JSONValue.parse(Array(text.utf8)))
        #expect(controls.contentHash == "12345678901234567")
    }

    @Test func aNumericOperationIdKeepsEveryDigit() throws {
        #expect(try JSONValue.parse(Array("9007199254740993".utf8)).idValue == "9007199254740993")
        #expect(JSONValue.number(42).idValue == "42")
        #expect(JSONValue.number(4.5).idValue == nil)
    }
}
