import Testing
@testable import HTTP

@Suite struct HeadersTests {
    @Test func lookupIsCaseInsensitiveAndKeepsDuplicates() {
        var headers: HTTPHeaders = ["Content-Length": "3", "X-A": "1"]
        headers.add(name: "x-a", value: "2")
        #expect(headers["content-length"] == "3")
        #expect(headers.values("X-a") == ["1", "2"])
        headers["X-A"] = "9"
        #expect(headers.values("x-a") == ["9"])
    }

    @Test func listValuesSplitAndTrim() {
        let headers: HTTPHeaders = ["Connection": " keep-alive ,Upgrade", "connection": "CLOSE"]
        #expect(headers.containsToken("close", in: "Connection"))
        #expect(headers.listValues("Connection") == ["keep-alive", "Upgrade", "CLOSE"])
    }
}
