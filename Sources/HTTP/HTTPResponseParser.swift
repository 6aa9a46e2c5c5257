/// The status line and header section of a response, as the client's parser produced it.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    /// The code with its standard reason phrase: the phrase sent is ignored (RFC 9112 §4),
    /// so `head.status == .ok` holds whatever the server wrote after "200".
    public var status: HTTPStatus
    public var headers: HTTPHeaders

    public init(version: HTTPVersion = .http1_1, status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.headers = headers
    }
}

/// A resumable, strict RFC 9112 response-head parser with the same contract as
/// `HTTPRequestHeadParser`. Interim (1xx) heads are returned like any other; the caller skips them.
public struct HTTPResponseHeadParser: Sendable {
    public let limits: HTTPParserLimits
    private var scanner = HTTPHeadScanner()

    public init(limits: HTTPParserLimits = .init()) { self.limits = limits }

    public mutating func reset() { scanner = HTTPHeadScanner() }

    public mutating func parse(_ buffer: UnsafeRawBufferPointer) -> HeadParseResult<HTTPResponseHead> {
        switch scanner.scan(buffer, limits: limits, tracksTarget: false) {
        case .needMoreData:
            return .needMoreData
        case .invalid(let error):
            reset()
            return .invalid(error)
        case .complete(let span):
            do throws(HTTPParseError) {
                let (version, status) = try Self.parseStatusLine(buffer, span.start..<span.startLineEnd)
                var fields: [(String, String)] = []
                fields.reserveCapacity(16)
                var hostCount = 0  // a response has no Host rule
                try HTTPGrammar.parseFieldLines(buffer, from: span.startLineEnd + 2, to: span.end - 2, into: &fields, hostCount: &hostCount)
                return .complete(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields)), consumed: span.end)
            } catch {
                return .invalid(error)
            }
        }
    }

    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). The SP before
    /// an empty reason is tolerated missing, as deployed servers omit it.
    private static func parseStatusLine(_ p: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError) -> (HTTPVersion, HTTPStatus) {
        let s = line.lowerBound
        guard line.count >= 12 else { throw .invalidStatusLine }
        let version: HTTPVersion
        switch HTTPGrammar.matchVersion(p, at: s) {
        case .supported(let v): version = v
        case .unsupported: throw .unsupportedVersion
        case .malformed: throw .invalidStatusLine
        }
        let d0 = p[s + 9] &- 0x30, d1 = p[s + 10] &- 0x30, d2 = p[s + 11] &- 0x30
        // RFC 9110 §15: three digits; only the classes 1xx–5xx exist.
        guard p[s + 8] == HTTPGrammar.sp, (1...5).contains(d0), d1 < 10, d2 < 10 else { throw .invalidStatusLine }
        if line.count > 12 {
            guard p[s + 12] == HTTPGrammar.sp else { throw .invalidStatusLine }
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4)
            for i in (s + 13)..<line.upperBound where !HTTPGrammar.isFieldValueByte(p[i]) { throw .invalidStatusLine }
        }
        return (version, HTTPStatus(code: Int(d0) * 100 + Int(d1) * 10 + Int(d2)))
    }
}

/// How a response's body is delimited (RFC 9112 §6.3), given the request it answers.
public enum ResponseBodyFraming: Equatable, Sendable {
    case none
    case contentLength(Int)
    case chunked
    /// The body runs until the server closes the connection, which then cannot be reused.
    case untilClose

    public static func framing(of head: HTTPResponseHead, requestMethod: HTTPMethod) -> Result<ResponseBodyFraming, HTTPParseError> {
        // RFC 9112 §6.3 item 1: responses to HEAD, and 1xx, 204 and 304, end at the head.
        if requestMethod == .head || !head.status.mayHaveBody { return .success(.none) }
        // RFC 9112 §6.3 item 2: a 2xx to CONNECT turns the connection into a tunnel.
        if requestMethod == .connect, head.status.isSuccess { return .success(.none) }
        let present = HTTPFraming.presentFields(head.headers)
        if present.transferEncoding {
            // RFC 9112 §6.1: TE in an HTTP/1.0 message means the framing is faulty.
            if head.version == .http1_0 { return .failure(.transferEncodingInHTTP10) }
            // RFC 9112 §6.3 item 3: TE overrides any Content-Length; without chunked last, read to close.
            return .success(HTTPFraming.transferCodings(head.headers).lastIsChunked ? .chunked : .untilClose)
        }
        if present.contentLength {
            return HTTPFraming.contentLength(head.headers).map { .contentLength($0) }  // RFC 9112 §6.3 item 5
        }
        return .success(.untilClose)  // RFC 9112 §6.3 item 8
    }
}
