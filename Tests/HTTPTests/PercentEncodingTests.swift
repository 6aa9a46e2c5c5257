import Testing
@testable import HTTP

@Suite struct PercentEncodingTests {
    @Test func decodesEscapesIntoUTF8() {
        #expect(PercentEncoding.decode("caf%C3%A9") == "café")
        #expect(PercentEncoding.decode("caf%c3%a9") == "café")
        #expect(PercentEncoding.decode("a%2Fb%3F%23%25") == "a/b?#%")
        #expect(PercentEncoding.decode("%00") == "\u{0}")
    }

    @Test func leavesTextWithoutEscapesAsItIs() {
        #expect(PercentEncoding.decode("") == "")
        #expect(PercentEncoding.decode("plain-text_é") == "plain-text_é")
        let substring = "xx/a+b%20c/yy".split(separator: "/")[1]
        #expect(PercentEncoding.decode(substring) == "a+b c")
    }

    @Test func plusIsASpaceOnlyWhenAsked() {
        #expect(PercentEncoding.decode("x+y%2B") == "x+y+")
        #expect(PercentEncoding.decode("x+y%2B", plusAsSpace: true) == "x y+")
    }

    @Test(arguments: ["%", "%2", "abc%", "%zz", "%2g", "%g2", "a%%20"])
    func malformedEscapeIsNil(_ input: String) {
        #expect(PercentEncoding.decode(input) == nil)
    }

    @Test(arguments: ["%C3", "%FF", "%C3%28", "%ED%A0%80", "a%E2%82"])
    func escapesThatAreNotUTF8AreNil(_ input: String) {
        #expect(PercentEncoding.decode(input) == nil)
    }

    @Test func encodePathSegmentKeepsPathCharacters() {
        let kept = "AZaz09-._~!$&'()*+,;=:@"
        #expect(PercentEncoding.encodePathSegment(kept) == kept)
    }

    @Test func encodePathSegmentEscapesEverythingThatCouldReshapeThePath() {
        #expect(PercentEncoding.encodePathSegment("a/b?c#d%e f") == "a%2Fb%3Fc%23d%25e%20f")
        #expect(PercentEncoding.encodePathSegment("café") == "caf%C3%A9")
        #expect(PercentEncoding.encodePathSegment("\"<>[]{}|\\^`") == "%22%3C%3E%5B%5D%7B%7D%7C%5C%5E%60")
        #expect(PercentEncoding.encodePathSegment("") == "")
    }

    @Test(arguments: ["", "acct 1/2", "100%", "ünïcødé/✓", "a+b=c&d", "..", "%2F"])
    func encodedSegmentDecodesBackToTheOriginal(_ original: String) {
        let encoded = PercentEncoding.encodePathSegment(original)
        #expect(!encoded.contains("/"))
        #expect(PercentEncoding.decode(encoded) == original)
    }
}

@Suite struct QueryComponentEncodingTests {
    @Test func queryComponentEscapesDelimiters() {
        #expect(PercentEncoding.encodeQueryComponent("a&b=c+d #é") == "a%26b%3Dc%2Bd%20%23%C3%A9")
        #expect(PercentEncoding.encodeQueryComponent("plain-1.2_~") == "plain-1.2_~")
        #expect(PercentEncoding.decode(PercentEncoding.encodeQueryComponent("x&y=z"), plusAsSpace: true) == "x&y=z")
    }
}
