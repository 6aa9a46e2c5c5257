import Testing
@testable import HTTP

struct ValidResponse: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let expected: HTTPResponseHead
    var testDescription: String { name }

    init(_ name: String, _ raw: String, version: HTTPVersion = .http1_1, _ code: Int, _ headers: [(String, String)]) {
        self.name = name
        self.raw = Array(raw.utf8)
        self.expected = HTTPResponseHead(version: version, status: HTTPStatus(code: code), headers: HTTPHeaders(headers))
    }

    static let all: [ValidResponse] = [
        .init(
            "200 with length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n", 200,
            [("Content-Length", "5"), ("Content-Type", "text/plain")]),
        .init("HTTP/1.0 404", "HTTP/1.0 404 Not Found\r\nServer: old\r\n\r\n", version: .http1_0, 404, [("Server", "old")]),
        .init("empty reason phrase", "HTTP/1.1 204 \r\nDate: x\r\n\r\n", 204, [("Date", "x")]),
        .init("reason phrase and its SP omitted", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, [("Content-Length", "0")]),
        .init("non-standard reason with spaces and obs-text", "HTTP/1.1 200 Très  bien\t!\r\n\r\n", 200, []),
        .init("interim 100 Continue", "HTTP/1.1 100 Continue\r\n\r\n", 100, []),
        .init("no Host needed, no fields", "HTTP/1.1 503 Service Unavailable\r\n\r\n", 503, []),
        .init("leading empty line skipped", "\r\nHTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", 302, [("Location", "/x")]),
        .init(
            "duplicate Set-Cookie kept in order", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n", 200,
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
        .init("unknown code in a known class", "HTTP/1.1 299 Whatever\r\n\r\n", 299, []),
    ]
}

@Suite struct ResponseHeadParserTests {
    @Test(arguments: ValidResponse.all)
    func parsesWholeResponse(_ c: ValidResponse) {
        #expect(HeadFeeding.whole(HTTPResponseHeadParser.self, c.raw) == .complete(c.expected, consumed: c.raw.count))
    }

    @Test(arguments: ValidResponse.all)
    func parsesResponseSplitAtEveryByteBoundary(_ c: ValidResponse) {
        for (split, prefix, whole) in HeadFeeding.splits(HTTPResponseHeadParser.self, c.raw) {
            #expect(prefix == .needMoreData, "prefix of \(split) bytes")
            #expect(whole == .complete(c.expected, consumed: c.raw.count), "after a split at \(split)")
        }
    }

    @Test(arguments: ValidResponse.all)
    func parsesResponseArrivingByteByByte(_ c: ValidResponse) {
        let (result, fed) = HeadFeeding.byteByByte(HTTPResponseHeadParser.self, c.raw)
        #expect(result == .complete(c.expected, consumed: c.raw.count))
        #expect(fed == c.raw.count)
    }

    @Test func parsesInterimThenFinalHeadInSequence() {
        let raw = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /o/1\r\n\r\n".utf8)
        #expect(
            HeadFeeding.pipelined(HTTPResponseHeadParser.self, raw) == [
                .complete(HTTPResponseHead(status: .continue), consumed: 25),
                .complete(HTTPResponseHead(status: .created, headers: ["Location": "/o/1"]), consumed: raw.count - 25),
            ])
    }

    @Test func ignoresTheReasonPhraseSoStatusComparesToTheConstant() {
        guard case .complete(let head, _) = HeadFeeding.whole(HTTPResponseHeadParser.self, Array("HTTP/1.1 200 Fine\r\n\r\n".utf8)) else {
            Issue.record("refused"); return
        }
        #expect(head.status == .ok)
        #expect(head.status.reasonPhrase == "OK")
    }

    @Test func consumesOnlyTheHeadWhenBodyBytesFollow() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        guard case .complete(_, let consumed) = HeadFeeding.whole(HTTPResponseHeadParser.self, Array((head + "{}").utf8)) else {
            Issue.record("refused"); return
        }
        #expect(consumed == head.utf8.count)
    }

    static let invalidResponses: [(String, HTTPParseError, Int)] = [
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 600 Nope\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1  200 OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 200OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/1.1 200 O\0K\r\n\r\n", .invalidStatusLine, 400),
        ("ICY 200 OK\r\n\r\n", .invalidStatusLine, 400),
        ("http/1.1 200 OK\r\n\r\n", .invalidStatusLine, 400),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion, 505),
        ("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", .bareLF, 400),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\rX\r\n\r\n", .bareCR, 400),
        ("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", .obsoleteLineFolding, 400),
        ("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", .whitespaceBeforeColon, 400),
        ("HTTP/1.1 200 OK\r\nX-A: \u{01}\r\n\r\n", .invalidHeaderValue, 400),
        ("HTTP/1.1 200 OK\r\nX[A]: 1\r\n\r\n", .invalidHeaderName, 400),
    ]

    @Test(arguments: invalidResponses)
    func refusesMalformedResponseHead(_ raw: String, _ error: HTTPParseError, _ status: Int) {
        #expect(HeadFeeding.whole(HTTPResponseHeadParser.self, Array(raw.utf8)) == .invalid(error))
        #expect(HeadFeeding.byteByByte(HTTPResponseHeadParser.self, Array(raw.utf8)).result == .invalid(error))
        #expect(error.status.code == status)
    }

    @Test func responseHeadOverTheBoundIs431() {
        let limits = HTTPParserLimits(maxHeaderBytes: 32)
        let fits = Array("HTTP/1.1 200 OK\r\nA: 12345678\r\n\r\n".utf8)
        #expect(fits.count == 32)
        #expect(HeadFeeding.whole(HTTPResponseHeadParser.self, fits, limits: limits) == .complete(HTTPResponseHead(status: .ok, headers: ["A": "12345678"]), consumed: 32))
        #expect(HeadFeeding.whole(HTTPResponseHeadParser.self, Array("HTTP/1.1 200 OK\r\nA: 123456789\r\n\r\n".utf8), limits: limits) == .invalid(.headersTooLarge))
    }
}

struct ResponseFramingCase: Sendable, CustomTestStringConvertible {
    let name: String
    let method: HTTPMethod
    let code: Int
    let version: HTTPVersion
    let fields: [(String, String)]
    let expected: Result<ResponseBodyFraming, HTTPParseError>
    var testDescription: String { name }

    init(
        _ name: String, method: HTTPMethod = .get, code: Int = 200, version: HTTPVersion = .http1_1, fields: [(String, String)] = [],
        _ expected: Result<ResponseBodyFraming, HTTPParseError>
    ) {
        self.name = name; self.method = method; self.code = code; self.version = version; self.fields = fields; self.expected = expected
    }

    static let table: [ResponseFramingCase] = [
        .init("HEAD response with length", method: .head, code: 200, version: .http1_1, fields: [("Content-Length", "10")], .success(.none)),
        .init("HEAD response with chunked", method: .head, code: 200, version: .http1_1, fields: [("Transfer-Encoding", "chunked")], .success(.none)),
        .init("100 Continue", method: .post, code: 100, .success(.none)),
        .init("101 Switching Protocols", method: .get, code: 101, .success(.none)),
        .init("204 with length", method: .delete, code: 204, version: .http1_1, fields: [("Content-Length", "5")], .success(.none)),
        .init("304 with length", method: .get, code: 304, version: .http1_1, fields: [("Content-Length", "5")], .success(.none)),
        .init("2xx to CONNECT", method: .connect, code: 200, .success(.none)),
        .init("chunked", fields: [("Transfer-Encoding", "chunked")], .success(.chunked)),
        .init("chunked overrides length", fields: [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], .success(.chunked)),
        .init("chunked overrides invalid length", fields: [("Content-Length", "x"), ("Transfer-Encoding", "chunked")], .success(.chunked)),
        .init("gzip, chunked is chunked framing", fields: [("Transfer-Encoding", "gzip, chunked")], .success(.chunked)),
        .init("TE without chunked last reads to close", fields: [("Transfer-Encoding", "gzip")], .success(.untilClose)),
        .init("TE chunked, gzip reads to close", fields: [("Transfer-Encoding", "chunked, gzip")], .success(.untilClose)),
        .init("Content-Length", fields: [("Content-Length", "5")], .success(.contentLength(5))),
        .init("Content-Length 0", fields: [("Content-Length", "0")], .success(.contentLength(0))),
        .init("identical Content-Length list", fields: [("Content-Length", "5, 5")], .success(.contentLength(5))),
        .init("conflicting Content-Length", fields: [("Content-Length", "5"), ("Content-Length", "6")], .failure(.conflictingContentLength)),
        .init("invalid Content-Length", fields: [("Content-Length", "5a")], .failure(.invalidContentLength)),
        .init("no framing fields", .success(.untilClose)),
        .init("404 with length", method: .get, code: 404, version: .http1_1, fields: [("Content-Length", "9")], .success(.contentLength(9))),
        .init("TE in HTTP/1.0", method: .get, code: 200, version: .http1_0, fields: [("Transfer-Encoding", "chunked")], .failure(.transferEncodingInHTTP10)),
        .init("HTTP/1.0 without length", method: .get, code: 200, version: .http1_0, fields: [], .success(.untilClose)),
    ]
}

@Suite struct ResponseBodyFramingTests {
    @Test(arguments: ResponseFramingCase.table)
    func decidesFramingPerRFC9112Section6_3(_ c: ResponseFramingCase) {
        let head = HTTPResponseHead(version: c.version, status: HTTPStatus(code: c.code), headers: HTTPHeaders(c.fields))
        #expect(ResponseBodyFraming.framing(of: head, requestMethod: c.method) == c.expected)
    }
}
