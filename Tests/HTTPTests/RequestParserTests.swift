import Testing
@testable import HTTP

// MARK: - Feeding heads the way a connection does

/// Either head parser, so request and response tests share the feeding harness.
protocol ResumableHeadParser {
    associatedtype Head: Equatable
    init(limits: HTTPParserLimits)
    mutating func parse(_ buffer: UnsafeRawBufferPointer) -> HeadParseResult<Head>
}
extension HTTPRequestHeadParser: ResumableHeadParser {}
extension HTTPResponseHeadParser: ResumableHeadParser {}

/// swift-nio style drivers: whole, split at every boundary, byte by byte, pipelined.
/// Every call passes all unconsumed bytes from the start of the head (the parser's contract).
enum HeadFeeding {
    static func whole<P: ResumableHeadParser>(_: P.Type, _ bytes: [UInt8], limits: HTTPParserLimits = .init()) -> HeadParseResult<P.Head> {
        var parser = P(limits: limits)
        return bytes.withUnsafeBytes { parser.parse($0) }
    }

    /// Grows the buffer one byte per call; returns the first decisive result and how many bytes produced it.
    static func byteByByte<P: ResumableHeadParser>(_: P.Type, _ bytes: [UInt8], limits: HTTPParserLimits = .init()) -> (result: HeadParseResult<P.Head>, fed: Int) {
        var parser = P(limits: limits)
        return bytes.withUnsafeBytes { all in
            for k in 0...all.count {
                let result = parser.parse(UnsafeRawBufferPointer(rebasing: all[0..<k]))
                if result != .needMoreData { return (result, k) }
            }
            return (.needMoreData, all.count)
        }
    }

    /// For each split point k: the result for the first k bytes, then for the whole buffer, on one parser.
    static func splits<P: ResumableHeadParser>(_: P.Type, _ bytes: [UInt8], limits: HTTPParserLimits = .init()) -> [(
        split: Int, prefix: HeadParseResult<P.Head>, whole: HeadParseResult<P.Head>
    )] {
        bytes.withUnsafeBytes { all in
            (1..<all.count).map { k in
                var parser = P(limits: limits)
                let prefix = parser.parse(UnsafeRawBufferPointer(rebasing: all[0..<k]))
                return (k, prefix, parser.parse(all))
            }
        }
    }

    /// Parses back-to-back heads with one parser, advancing by `consumed`.
    static func pipelined<P: ResumableHeadParser>(_: P.Type, _ bytes: [UInt8]) -> [HeadParseResult<P.Head>] {
        var parser = P(limits: .init())
        var offset = 0
        var results: [HeadParseResult<P.Head>] = []
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            results.append(result)
            guard case .complete(_, let consumed) = result else { break }
            offset += consumed
        }
        return results
    }
}

// MARK: - Fixtures

struct ValidRequest: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let expected: HTTPRequestHead
    var testDescription: String { name }

    init(_ name: String, _ raw: String, _ method: HTTPMethod, _ target: String, version: HTTPVersion = .http1_1, _ headers: [(String, String)]) {
        self.name = name
        self.raw = Array(raw.utf8)
        self.expected = HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(headers))
    }

    static let all: [ValidRequest] = [
        .init("minimal GET", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", .get, "/", [("Host", "example.com")]),
        .init(
            "POST with several fields",
            "POST /v1/merchants/42/controls?dry_run=true HTTP/1.1\r\nHost: api.example.com:8443\r\nContent-Type: application/json\r\nContent-Length: 13\r\nX-Request-ID: 7b1c\r\n\r\n",
            .post, "/v1/merchants/42/controls?dry_run=true",
            [("Host", "api.example.com:8443"), ("Content-Type", "application/json"), ("Content-Length", "13"), ("X-Request-ID", "7b1c")]),
        .init("HTTP/1.0 without Host", "GET /legacy HTTP/1.0\r\nUser-Agent: curl/7.0\r\n\r\n", .get, "/legacy", version: .http1_0, [("User-Agent", "curl/7.0")]),
        .init("HTTP/1.0 without fields", "GET / HTTP/1.0\r\n\r\n", .get, "/", version: .http1_0, []),
        .init("absolute-form", "GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n", .get, "http://example.com/a?b=c", [("Host", "example.com")]),
        .init(
            "absolute-form with upper-case https scheme", "GET HTTPS://Example.com HTTP/1.1\r\nHost: Example.com\r\n\r\n", .get, "HTTPS://Example.com", [("Host", "Example.com")]),
        .init("asterisk-form for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .options, "*", [("Host", "a")]),
        .init("authority-form for CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", .connect, "example.com:443", [("Host", "example.com:443")]),
        .init("authority-form with IPv6 literal", "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .connect, "[::1]:8080", [("Host", "[::1]:8080")]),
        .init("leading empty lines skipped", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .get, "/", [("Host", "a")]),
        .init(
            "OWS trimmed, inner whitespace kept, empty values",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Spaced:   inner  spaces \t \r\nX-Empty:\r\nX-Blank:   \r\nX-Tab:\tv\r\n\r\n",
            .get, "/", [("Host", "a"), ("X-Spaced", "inner  spaces"), ("X-Empty", ""), ("X-Blank", ""), ("X-Tab", "v")]),
        .init("obs-text value decoded as UTF-8", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: café ✓\r\n\r\n", .get, "/", [("Host", "a"), ("X-Name", "café ✓")]),
        .init("extension method with every tchar", "X!#$%&'*+-.^_`|~9 /dav/ HTTP/1.1\r\nHost: a\r\n\r\n", HTTPMethod("X!#$%&'*+-.^_`|~9"), "/dav/", [("Host", "a")]),
        .init(
            "duplicate fields kept in order with their spelling",
            "GET / HTTP/1.1\r\nAccept: a\r\nHost: h\r\naccept: b\r\nCookie: x=1\r\nAccept: c\r\n\r\n",
            .get, "/", [("Accept", "a"), ("Host", "h"), ("accept", "b"), ("Cookie", "x=1"), ("Accept", "c")]),
        .init(
            "target with every reserved character", "GET /a/b;c=d?e=f&g=%20h#frag~!$'()*+,:@[] HTTP/1.1\r\nhost: a\r\n\r\n",
            .get, "/a/b;c=d?e=f&g=%20h#frag~!$'()*+,:@[]", [("host", "a")]),
        .init("colon inside value", "GET / HTTP/1.1\r\nHost: a:80\r\nX-Time: 12:34:56\r\n\r\n", .get, "/", [("Host", "a:80"), ("X-Time", "12:34:56")]),
    ]
}

struct InvalidRequest: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let error: HTTPParseError
    let status: Int
    var testDescription: String { name }

    init(_ name: String, _ raw: String, _ error: HTTPParseError, _ status: Int = 400) {
        self.init(name, bytes: Array(raw.utf8), error, status)
    }
    init(_ name: String, bytes: [UInt8], _ error: HTTPParseError, _ status: Int = 400) {
        self.name = name; self.raw = bytes; self.error = error; self.status = status
    }

    static let all: [InvalidRequest] = [
        .init("obs-fold continuation line", "GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", .obsoleteLineFolding),
        .init("tab-folded continuation line", "GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", .obsoleteLineFolding),
        .init("whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .obsoleteLineFolding),
        .init("bare CR inside a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .bareCR),
        .init("bare CR ending the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", .bareCR),
        .init("bare CR inside the target", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", .bareCR),
        .init("bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLF),
        .init("bare LF ending a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLF),
        .init("bare LF terminator", "GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF),
        .init("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLF),
        .init("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon),
        .init("tab before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n", .whitespaceBeforeColon),
        .init("space inside a field name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", .invalidHeaderName),
        .init("delimiter in a field name", "GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n", .invalidHeaderName),
        .init("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", .invalidHeaderName),
        .init("field line without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .invalidHeaderName),
        .init("obs-text in a field name", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-".utf8) + [0xC3, 0xA9] + Array(": 1\r\n\r\n".utf8), .invalidHeaderName),
        .init("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", .invalidHeaderValue),
        .init("DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{7F}\r\n\r\n", .invalidHeaderValue),
        .init("vertical tab in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{0B}b\r\n\r\n", .invalidHeaderValue),
        .init("delimiter in the method", "G(ET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
        .init("obs-text in the method", "GÉT / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
        .init("line starting with a space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("two spaces before the version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("HTTP/0.9 line without version", "GET /\r\n\r\n", .invalidRequestLine),
        .init("trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("garbage after version", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("two-digit minor version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("version without minor", "GET / HTTP/2\r\nHost: a\r\n\r\n", .invalidRequestLine),
        .init("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion, 505),
        .init("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion, 505),
        .init("HTTP/0.9 with version", "GET / HTTP/0.9\r\n\r\n", .unsupportedVersion, 505),
        .init("DEL in the target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("obs-text in the target", "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("asterisk for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("origin-form for CONNECT", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("CONNECT with userinfo", "CONNECT u@example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("authority-form for GET", "GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("absolute-form with empty host", "GET http:///path HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("absolute-form with other scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
        .init("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost),
        .init("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .multipleHost),
        .init("two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n", .multipleHost),
    ]
}

// MARK: - Valid requests

@Suite struct RequestHeadParserTests {
    @Test(arguments: ValidRequest.all)
    func parsesWholeRequest(_ c: ValidRequest) {
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, c.raw) == .complete(c.expected, consumed: c.raw.count))
    }

    @Test(arguments: ValidRequest.all)
    func parsesRequestSplitAtEveryByteBoundary(_ c: ValidRequest) {
        for (split, prefix, whole) in HeadFeeding.splits(HTTPRequestHeadParser.self, c.raw) {
            #expect(prefix == .needMoreData, "prefix of \(split) bytes")
            #expect(whole == .complete(c.expected, consumed: c.raw.count), "after a split at \(split)")
        }
    }

    @Test(arguments: ValidRequest.all)
    func parsesRequestArrivingByteByByte(_ c: ValidRequest) {
        let (result, fed) = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, c.raw)
        #expect(result == .complete(c.expected, consumed: c.raw.count))
        #expect(fed == c.raw.count)
    }

    @Test(arguments: ValidRequest.all)
    func parsesPipelinedRequestsInSequence(_ c: ValidRequest) {
        let other = ValidRequest.all[1]
        let results = HeadFeeding.pipelined(HTTPRequestHeadParser.self, c.raw + other.raw + c.raw)
        #expect(
            results == [
                .complete(c.expected, consumed: c.raw.count),
                .complete(other.expected, consumed: other.raw.count),
                .complete(c.expected, consumed: c.raw.count),
            ])
    }

    @Test func consumesOnlyTheHeadWhenBodyBytesFollow() {
        let head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
        let result = HeadFeeding.whole(HTTPRequestHeadParser.self, Array((head + "hello").utf8))
        guard case .complete(let parsed, let consumed) = result else { Issue.record("\(result)"); return }
        #expect(consumed == head.utf8.count)
        #expect(parsed.headers["content-length"] == "5")
    }

    @Test func asksForMoreDataUntilTheEmptyLineArrives() {
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, []) == .needMoreData)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("\r\n\r\n".utf8)) == .needMoreData)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("GET / HTTP/1.1\r\nHost: a\r\n\r".utf8)) == .needMoreData)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)) == .needMoreData)
    }

    @Test func decodesInvalidUTF8InValuesLossily() {
        let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Bin: a".utf8) + [0xFF, 0x80] + Array("b\r\n\r\n".utf8)
        guard case .complete(let head, _) = HeadFeeding.whole(HTTPRequestHeadParser.self, raw) else { Issue.record("not parsed"); return }
        #expect(head.headers["X-Bin"] == "a\u{FFFD}\u{FFFD}b")
    }

    @Test func parserIsReusableAfterARefusal() {
        var parser = HTTPRequestHeadParser()
        let bad = Array("GET / HTTP/1.1\r\nHost : a\r\n\r\n".utf8), good = ValidRequest.all[0]
        #expect(bad.withUnsafeBytes { parser.parse($0) } == .invalid(.whitespaceBeforeColon))
        #expect(good.raw.withUnsafeBytes { parser.parse($0) } == .complete(good.expected, consumed: good.raw.count))
    }

    @Test func resetForgetsAPartlyScannedHead() {
        var parser = HTTPRequestHeadParser()
        let partial = Array("GET /partial HTTP/1.1\r\nHo".utf8), good = ValidRequest.all[0]
        #expect(partial.withUnsafeBytes { parser.parse($0) } == .needMoreData)
        parser.reset()
        #expect(good.raw.withUnsafeBytes { parser.parse($0) } == .complete(good.expected, consumed: good.raw.count))
    }
}

// MARK: - Refusals

@Suite struct RequestHeadRefusalTests {
    @Test(arguments: InvalidRequest.all)
    func refusesMalformedHeadWithItsStatus(_ c: InvalidRequest) {
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, c.raw) == .invalid(c.error))
        #expect(c.error.status.code == c.status)
    }

    @Test(arguments: InvalidRequest.all)
    func refusesMalformedHeadArrivingByteByByte(_ c: InvalidRequest) {
        #expect(HeadFeeding.byteByByte(HTTPRequestHeadParser.self, c.raw).result == .invalid(c.error))
    }
}

// MARK: - Limits

@Suite struct RequestHeadLimitTests {
    static let limits = HTTPParserLimits()

    /// A valid request whose head, final CRLF included, is exactly `size` bytes.
    static func request(headBytes size: Int) -> [UInt8] {
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ", suffix = "\r\n\r\n"
        return Array((prefix + String(repeating: "p", count: size - prefix.utf8.count - suffix.utf8.count) + suffix).utf8)
    }

    @Test func defaultsAreThePublishedBounds() {
        #expect(Self.limits.maxHeaderBytes == 16_384)
        #expect(Self.limits.maxRequestTargetBytes == 8_192)
        #expect(Self.limits.maxHeaderCount == 100)
        #expect(Self.limits.maxChunkLineBytes == 4_096)
        #expect(Self.limits.maxTrailerBytes == 16_384)
    }

    @Test func headOfExactlyMaxHeaderBytesPasses() {
        let raw = Self.request(headBytes: 16_384)
        guard case .complete(_, let consumed) = HeadFeeding.whole(HTTPRequestHeadParser.self, raw) else { Issue.record("refused"); return }
        #expect(consumed == 16_384)
        guard case .complete = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw).result else { Issue.record("refused"); return }
    }

    @Test func headEndingAtTheBoundPassesWithTheNextRequestBuffered() {
        let raw = Self.request(headBytes: 16_384) + ValidRequest.all[0].raw
        guard case .complete(_, let consumed) = HeadFeeding.whole(HTTPRequestHeadParser.self, raw) else { Issue.record("refused"); return }
        #expect(consumed == 16_384)
    }

    @Test func headOneByteOverMaxHeaderBytesIs431() {
        let raw = Self.request(headBytes: 16_385)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, raw) == .invalid(.headersTooLarge))
        #expect(HTTPParseError.headersTooLarge.status.code == 431)
        // Refused when byte 16_385 arrives, before the head could end.
        let (result, fed) = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw)
        #expect(result == .invalid(.headersTooLarge))
        #expect(fed == 16_385)
    }

    @Test func unterminatedHeadIsRefusedOnceItPassesTheBound() {
        let raw = Array(Self.request(headBytes: 16_500).prefix(16_385))
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array(raw.prefix(16_384))) == .needMoreData)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, raw) == .invalid(.headersTooLarge))
    }

    @Test func leadingEmptyLinesCountTowardTheHeadBound() {
        let limits = HTTPParserLimits(maxHeaderBytes: 64)
        let raw = Array(String(repeating: "\r\n", count: 40).utf8)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, raw, limits: limits) == .invalid(.headersTooLarge))
    }

    @Test func exactlyMaxHeaderCountFieldsPass() {
        let fields = (1..<100).map { "X-\($0): v\r\n" }.joined()
        let raw = Array("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8)
        guard case .complete(let head, _) = HeadFeeding.whole(HTTPRequestHeadParser.self, raw) else { Issue.record("refused"); return }
        #expect(head.headers.count == 100)
    }

    @Test func oneFieldOverMaxHeaderCountIs431() {
        let fields = (1...100).map { "X-\($0): v\r\n" }.joined()
        let raw = Array("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, raw) == .invalid(.tooManyHeaders))
        #expect(HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw).result == .invalid(.tooManyHeaders))
        #expect(HTTPParseError.tooManyHeaders.status.code == 431)
    }

    static func request(targetBytes n: Int) -> [UInt8] {
        Array("GET /\(String(repeating: "a", count: n - 1)) HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
    }

    @Test func targetOfExactlyMaxRequestTargetBytesPasses() {
        let raw = Self.request(targetBytes: 8_192)
        guard case .complete(let head, _) = HeadFeeding.whole(HTTPRequestHeadParser.self, raw) else { Issue.record("refused"); return }
        #expect(head.target.utf8.count == 8_192)
        guard case .complete = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw).result else { Issue.record("refused"); return }
    }

    @Test func targetOneByteOverTheBoundIs414() {
        let raw = Self.request(targetBytes: 8_193)
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, raw) == .invalid(.targetTooLong))
        #expect(HTTPParseError.targetTooLong.status.code == 414)
    }

    @Test func longTargetIsRefusedBeforeTheRequestLineEnds() {
        let raw = Self.request(targetBytes: 9_000)
        let (result, fed) = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw)
        #expect(result == .invalid(.targetTooLong))
        #expect(fed == "GET ".utf8.count + 8_193)
    }

    @Test func smallerConfiguredLimitsAreHonoured() {
        let limits = HTTPParserLimits(maxHeaderBytes: 40, maxRequestTargetBytes: 4, maxHeaderCount: 1)
        let fits = Array("GET /abc HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        guard case .complete = HeadFeeding.whole(HTTPRequestHeadParser.self, fits, limits: limits) else { Issue.record("refused"); return }
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("GET /abcd HTTP/1.1\r\nHost: a\r\n\r\n".utf8), limits: limits) == .invalid(.targetTooLong))
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n\r\n".utf8), limits: limits) == .invalid(.tooManyHeaders))
        #expect(HeadFeeding.whole(HTTPRequestHeadParser.self, Array("GET / HTTP/1.1\r\nHost: aaaaaaaaaaaaaaaaaaaa\r\n\r\n".utf8), limits: limits) == .invalid(.headersTooLarge))
    }
}
