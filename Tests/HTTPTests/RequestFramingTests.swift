import Testing
@testable import HTTP

struct FramingCase: Sendable, CustomTestStringConvertible {
    let name: String
    let version: HTTPVersion
    let fields: [(String, String)]
    let expected: Result<RequestBodyFraming, HTTPParseError>
    var testDescription: String { name }

    init(_ name: String, version: HTTPVersion = .http1_1, _ fields: [(String, String)], _ expected: Result<RequestBodyFraming, HTTPParseError>) {
        self.name = name; self.version = version; self.fields = fields; self.expected = expected
    }

    static let all: [FramingCase] = [
        .init("no framing fields", [("Host", "a")], .success(.none)),
        .init("Content-Length 0", [("Content-Length", "0")], .success(.contentLength(0))),
        .init("Content-Length 42", [("content-length", "42")], .success(.contentLength(42))),
        .init("leading zeros", [("Content-Length", "007")], .success(.contentLength(7))),
        .init("18 digits", [("Content-Length", "999999999999999999")], .success(.contentLength(999_999_999_999_999_999))),
        .init("identical duplicate fields collapse", [("Content-Length", "5"), ("CONTENT-LENGTH", "5")], .success(.contentLength(5))),
        .init("identical list collapses", [("Content-Length", "5, 5,5")], .success(.contentLength(5))),
        .init("differing duplicate fields", [("Content-Length", "5"), ("Content-Length", "6")], .failure(.conflictingContentLength)),
        .init("differing list \"5, 6\"", [("Content-Length", "5, 6")], .failure(.conflictingContentLength)),
        .init("empty Content-Length", [("Content-Length", "")], .failure(.invalidContentLength)),
        .init("letters", [("Content-Length", "abc")], .failure(.invalidContentLength)),
        .init("negative", [("Content-Length", "-1")], .failure(.invalidContentLength)),
        .init("plus sign", [("Content-Length", "+5")], .failure(.invalidContentLength)),
        .init("hex", [("Content-Length", "0x10")], .failure(.invalidContentLength)),
        .init("digits split by space", [("Content-Length", "1 2")], .failure(.invalidContentLength)),
        .init("trailing empty list element", [("Content-Length", "5,")], .failure(.invalidContentLength)),
        .init("19 digits overflow", [("Content-Length", "9223372036854775807")], .failure(.invalidContentLength)),
        .init("chunked", [("Transfer-Encoding", "chunked")], .success(.chunked)),
        .init("chunked in other case", [("transfer-encoding", "ChUnKeD")], .success(.chunked)),
        .init("chunked with empty list elements", [("Transfer-Encoding", " , chunked ,")], .success(.chunked)),
        .init("CL and TE", [("Content-Length", "5"), ("Transfer-Encoding", "chunked")], .failure(.contentLengthWithTransferEncoding)),
        .init("TE and CL", [("Transfer-Encoding", "chunked"), ("Content-Length", "0")], .failure(.contentLengthWithTransferEncoding)),
        .init("chunked, gzip", [("Transfer-Encoding", "chunked, gzip")], .failure(.transferEncodingNotChunkedLast)),
        .init("gzip alone", [("Transfer-Encoding", "gzip")], .failure(.transferEncodingNotChunkedLast)),
        .init("empty TE", [("Transfer-Encoding", "")], .failure(.transferEncodingNotChunkedLast)),
        .init("chunked with a parameter", [("Transfer-Encoding", "chunked;q=1")], .failure(.transferEncodingNotChunkedLast)),
        .init("chunked then identity across fields", [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "identity")], .failure(.transferEncodingNotChunkedLast)),
        .init("chunked twice", [("Transfer-Encoding", "chunked, chunked")], .failure(.chunkedAppliedMoreThanOnce)),
        .init("chunked twice across fields", [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], .failure(.chunkedAppliedMoreThanOnce)),
        .init("gzip, chunked", [("Transfer-Encoding", "gzip, chunked")], .failure(.unsupportedTransferCoding)),
        .init("gzip then chunked across fields", [("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], .failure(.unsupportedTransferCoding)),
        .init("TE in HTTP/1.0", version: .http1_0, [("Transfer-Encoding", "chunked")], .failure(.transferEncodingInHTTP10)),
        .init("CL in HTTP/1.0", version: .http1_0, [("Content-Length", "3")], .success(.contentLength(3))),
    ]
}

@Suite struct RequestBodyFramingTests {
    @Test(arguments: FramingCase.all)
    func decidesFramingPerRFC9112Section6(_ c: FramingCase) {
        let head = HTTPRequestHead(method: .post, target: "/", version: c.version, headers: HTTPHeaders(c.fields))
        #expect(RequestBodyFraming.framing(of: head) == c.expected)
    }

    /// Request smuggling shapes sent on the wire: the head parser or the framing decision
    /// refuses each with the given status before any body byte is read.
    static let smugglingShapes: [(String, HTTPParseError, Int)] = [
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", .conflictingContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .transferEncodingNotChunkedLast, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding, 501),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", .whitespaceBeforeColon, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n ,chunked\r\n\r\n", .obsoleteLineFolding, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\rTransfer-Encoding: chunked\r\n\r\n", .bareCR, 400),
        ("POST / HTTP/1.1\r\nHost: a\nContent-Length: 5\r\n\r\n", .bareLF, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\0\r\n\r\n", .invalidHeaderValue, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer\u{01}Encoding: chunked\r\n\r\n", .invalidHeaderName, 400),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", .missingHost, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .multipleHost, 400),
        ("POST / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion, 505),
        ("POST / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidRequestLine, 400),
    ]

    @Test(arguments: smugglingShapes)
    func refusesSmugglingShapeBeforeReadingTheBody(_ raw: String, _ error: HTTPParseError, _ status: Int) {
        let refusal: HTTPParseError?
        switch HeadFeeding.whole(HTTPRequestHeadParser.self, Array(raw.utf8)) {
        case .complete(let head, _):
            if case .failure(let e) = RequestBodyFraming.framing(of: head) { refusal = e } else { refusal = nil }
        case .invalid(let e): refusal = e
        case .needMoreData: refusal = nil
        }
        #expect(refusal == error)
        #expect(refusal?.status.code == status)
    }
}

@Suite struct HTTPParseErrorTests {
    @Test func statusesFollowTheErrorKind() {
        let table: [(HTTPParseError, Int)] = [
            (.headersTooLarge, 431), (.tooManyHeaders, 431), (.trailersTooLarge, 431),
            (.targetTooLong, 414), (.unsupportedVersion, 505), (.unsupportedTransferCoding, 501),
            (.invalidRequestLine, 400), (.invalidMethod, 400), (.invalidTarget, 400), (.invalidHeaderName, 400),
            (.invalidHeaderValue, 400), (.obsoleteLineFolding, 400), (.bareCR, 400), (.bareLF, 400),
            (.whitespaceBeforeColon, 400), (.conflictingContentLength, 400), (.invalidContentLength, 400),
            (.contentLengthWithTransferEncoding, 400), (.transferEncodingNotChunkedLast, 400),
            (.chunkedAppliedMoreThanOnce, 400), (.transferEncodingInHTTP10, 400), (.missingHost, 400),
            (.multipleHost, 400), (.invalidChunkSize, 400), (.invalidChunkExtension, 400),
            (.invalidChunkFraming, 400), (.chunkExtensionTooLong, 400), (.invalidStatusLine, 400),
        ]
        for (error, code) in table { #expect(error.status.code == code, "\(error)") }
        #expect(Set(table.map(\.0.description)).count == table.count, "each reason reads differently")
    }

    @Test func descriptionExplainsTheRuleAndCitesTheRFC() {
        #expect(
            HTTPParseError.contentLengthWithTransferEncoding.description
                == "Content-Length and Transfer-Encoding must not both be present (RFC 9112 §6.3)")
        #expect(HTTPParseError.bareLF.description.contains("RFC 9112"))
        #expect(HTTPParseError.bareCR != HTTPParseError.bareLF)
    }
}
