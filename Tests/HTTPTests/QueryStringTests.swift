import Testing
@testable import HTTP

@Suite struct QueryStringTests {
    @Test func firstValueWinsAndBareNameIsEmpty() {
        #expect(QueryString.parse("a=1&a=2&b=&c&d=x%20y+z") == ["a": "1", "b": "", "c": "", "d": "x y z"])
    }

    @Test func parseAllKeepsOrderAndDuplicates() {
        let pairs = QueryString.parseAll("a=1&a=2&b=&c&d=x%20y+z")
        #expect(pairs.map(\.name) == ["a", "a", "b", "c", "d"])
        #expect(pairs.map(\.value) == ["1", "2", "", "", "x y z"])
    }

    @Test func malformedPairsAreSkippedWhole() {
        #expect(QueryString.parse("a=%zz&b=2&%C3=1&c=%") == ["b": "2"])
        #expect(QueryString.parse("=orphan&=&d=4") == ["d": "4"])
    }

    @Test func emptyPairsAreIgnored() {
        #expect(QueryString.parse("") == [:])
        #expect(QueryString.parse("&&a=1&&") == ["a": "1"])
    }

    @Test func splitsAtTheFirstEqualsAndDecodesEscapedDelimiters() {
        #expect(QueryString.parse("a==b&t=x=y") == ["a": "=b", "t": "x=y"])
        #expect(QueryString.parse("%26+k=%3D%2B") == ["& k": "=+"])
    }

    @Test func requestQueryComesFromTheTargetWithoutFragment() {
        let request = HTTPRequest(method: .get, target: "/v1/x?limit=10&limit=20&q=caf%C3%A9#frag")
        #expect(request.query == ["limit": "10", "q": "café"])
        #expect(HTTPRequest(method: .get, target: "/v1/x").query == [:])
    }
}
