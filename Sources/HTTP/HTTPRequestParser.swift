/// Bounds the parsers enforce while bytes arrive; each has a test at its edge.
public struct HTTPParserLimits: Sendable {
    /// The whole head: leading empty lines, start line, field lines and the final CRLF (431 beyond).
    public var maxHeaderBytes: Int
    /// The request-target alone (414 beyond).
    public var maxRequestTargetBytes: Int
    /// Field lines in a head (431 beyond).
    public var maxHeaderCount: Int
    /// A chunk-size line with its extensions, excluding CRLF.
    public var maxChunkLineBytes: Int
    /// The trailer section, including its final CRLF (431 beyond).
    public var maxTrailerBytes: Int

    public init(
        maxHeaderBytes: Int = 16_384, maxRequestTargetBytes: Int = 8_192, maxHeaderCount: Int = 100,
        maxChunkLineBytes: Int = 4_096, maxTrailerBytes: Int = 16_384
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestTargetBytes = maxRequestTargetBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxChunkLineBytes = maxChunkLineBytes
        self.maxTrailerBytes = maxTrailerBytes
    }
}

/// picohttpparser's answer: a head and how many bytes it took, a request for more bytes, or a refusal.
public enum HeadParseResult<Head> {
    case complete(Head, consumed: Int)
    case needMoreData
    case invalid(HTTPParseError)
}

extension HeadParseResult: Sendable where Head: Sendable {}
extension HeadParseResult: Equatable where Head: Equatable {}

/// A resumable, strict RFC 9112 request-head parser.
///
/// Contract: each call passes every unconsumed byte from the start of the head; after
/// `needMoreData` the next call passes the same bytes plus more. The terminator search
/// resumes where it stopped, so a head arriving in n pieces costs O(head) to find, and the
/// fields are parsed once. After `complete` or `invalid` the parser is ready for the next head.
public struct HTTPRequestHeadParser: Sendable {
    public let limits: HTTPParserLimits
    private var scanner = HTTPHeadScanner()

    public init(limits: HTTPParserLimits = .init()) { self.limits = limits }

    public mutating func reset() { scanner = HTTPHeadScanner() }

    public mutating func parse(_ buffer: UnsafeRawBufferPointer) -> HeadParseResult<HTTPRequestHead> {
        switch scanner.scan(buffer, limits: limits, tracksTarget: true) {
        case .needMoreData:
            return .needMoreData
        case .invalid(let error):
            reset()
            return .invalid(error)
        case .complete(let span):
            do throws(HTTPParseError) {
                return .complete(try Self.parseHead(buffer, span, limits), consumed: span.end)
            } catch {
                return .invalid(error)
            }
        }
    }

    private static func parseHead(_ p: UnsafeRawBufferPointer, _ span: HTTPHeadScanner.Span, _ limits: HTTPParserLimits) throws(HTTPParseError) -> HTTPRequestHead {
        let (method, target, version) = try parseRequestLine(p, span.start..<span.startLineEnd, limits)
        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        var hostCount = 0
        try HTTPGrammar.parseFieldLines(p, from: span.startLineEnd + 2, to: span.end - 2, into: &fields, hostCount: &hostCount)
        // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any request with several.
        if hostCount > 1 { throw .multipleHost }
        if hostCount == 0, version == .http1_1 { throw .missingHost }
        return HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(fields))
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), exactly one SP each.
    private static func parseRequestLine(_ p: UnsafeRawBufferPointer, _ line: Range<Int>, _ limits: HTTPParserLimits) throws(HTTPParseError) -> (HTTPMethod, String, HTTPVersion) {
        var i = line.lowerBound
        while HTTPGrammar.isTokenChar(p[i]) { i += 1 }  // the line ends in CR, a non-token byte
        let methodEnd = i
        guard p[i] == HTTPGrammar.sp, methodEnd > line.lowerBound else {
            // Empty method, no target or a separator other than SP: the line's shape is wrong.
            throw HTTPGrammar.isWhitespace(p[i]) || p[i] == HTTPGrammar.cr ? .invalidRequestLine : .invalidMethod
        }
        i += 1
        let targetStart = i
        while case let b = p[i], b > HTTPGrammar.sp, b < 0x7F { i += 1 }  // VCHAR only (RFC 9112 §3.2)
        let targetEnd = i
        guard p[i] == HTTPGrammar.sp, targetEnd > targetStart else {
            throw p[i] == HTTPGrammar.sp || p[i] == HTTPGrammar.cr ? .invalidRequestLine : .invalidTarget
        }
        if targetEnd - targetStart > limits.maxRequestTargetBytes { throw .targetTooLong }
        let versionStart = i + 1
        guard line.upperBound - versionStart == 8 else { throw .invalidRequestLine }
        let version: HTTPVersion
        switch HTTPGrammar.matchVersion(p, at: versionStart) {
        case .supported(let v): version = v
        case .unsupported: throw .unsupportedVersion
        case .malformed: throw .invalidRequestLine
        }
        let methodRange = line.lowerBound..<methodEnd
        try validateTargetForm(p, targetStart..<targetEnd, method: methodRange)
        return (HTTPMethod(HTTPGrammar.string(p, methodRange)), HTTPGrammar.string(p, targetStart..<targetEnd), version)
    }

    /// RFC 9112 §3.2: origin-form, absolute-form, authority-form only for CONNECT, asterisk-form only for OPTIONS.
    private static func validateTargetForm(_ p: UnsafeRawBufferPointer, _ target: Range<Int>, method: Range<Int>) throws(HTTPParseError) {
        let first = p[target.lowerBound]
        if HTTPGrammar.equals(p, method, "CONNECT") {
            guard isAuthorityForm(p, target) else { throw .invalidTarget }  // RFC 9112 §3.2.3
            return
        }
        if first == UInt8(ascii: "/") { return }  // origin-form (RFC 9112 §3.2.1)
        if target.count == 1, first == UInt8(ascii: "*") {
            guard HTTPGrammar.equals(p, method, "OPTIONS") else { throw .invalidTarget }  // RFC 9112 §3.2.4
            return
        }
        guard isHTTPAbsoluteForm(p, target) else { throw .invalidTarget }  // RFC 9112 §3.2.2
    }

    /// "http://" or "https://" (scheme case-insensitive, RFC 3986 §3.1) and a non-empty authority (RFC 9110 §4.2.1).
    private static func isHTTPAbsoluteForm(_ p: UnsafeRawBufferPointer, _ target: Range<Int>) -> Bool {
        // OR-ing 0x20 folds letters and leaves ':' and '/' alone; target bytes are already VCHAR.
        func hasPrefix(_ literal: StaticString) -> Bool {
            let n = literal.utf8CodeUnitCount
            guard target.count > n else { return false }
            for k in 0..<n where p[target.lowerBound + k] | 0x20 != literal.utf8Start[k] { return false }
            return true
        }
        let authority = target.lowerBound + (hasPrefix("http://") ? 7 : hasPrefix("https://") ? 8 : 0)
        guard authority > target.lowerBound else { return false }
        let b = p[authority]
        return b != UInt8(ascii: "/") && b != UInt8(ascii: "?") && b != UInt8(ascii: "#")
    }

    /// authority-form = uri-host ":" port (RFC 9112 §3.2.3); the host may be a bracketed IPv6 literal.
    private static func isAuthorityForm(_ p: UnsafeRawBufferPointer, _ target: Range<Int>) -> Bool {
        var colon = -1
        for i in target {
            switch p[i] {
            case UInt8(ascii: ":"): colon = i
            case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "@"): return false
            default: break
            }
        }
        guard colon > target.lowerBound, (1...5).contains(target.upperBound - colon - 1) else { return false }
        for i in (colon + 1)..<target.upperBound where !(0x30...0x39).contains(p[i]) { return false }
        return true
    }
}

/// How a request's body is delimited (RFC 9112 §6), decided from its head alone.
public enum RequestBodyFraming: Equatable, Sendable {
    case none
    case contentLength(Int)
    case chunked

    /// RFC 9112 §6.3 for requests, refusing every ambiguous framing a proxy in front
    /// of us might read differently (request smuggling).
    public static func framing(of head: HTTPRequestHead) -> Result<RequestBodyFraming, HTTPParseError> {
        let present = HTTPFraming.presentFields(head.headers)
        if present.transferEncoding {
            // RFC 9112 §6.3 item 3: a server MAY reject CL + TE; we always do.
            if present.contentLength { return .failure(.contentLengthWithTransferEncoding) }
            // RFC 9112 §6.1: TE in HTTP/1.0 means the framing is faulty.
            if head.version == .http1_0 { return .failure(.transferEncodingInHTTP10) }
            let codings = HTTPFraming.transferCodings(head.headers)
            // RFC 9112 §6.3 item 4: a request whose final coding is not chunked is a 400.
            guard codings.lastIsChunked else { return .failure(.transferEncodingNotChunkedLast) }
            guard codings.chunkedCount == 1 else { return .failure(.chunkedAppliedMoreThanOnce) }  // RFC 9112 §6.1
            guard codings.otherCount == 0 else { return .failure(.unsupportedTransferCoding) }  // RFC 9112 §6.1: 501
            return .success(.chunked)
        }
        if present.contentLength {
            return HTTPFraming.contentLength(head.headers).map { .contentLength($0) }
        }
        return .success(.none)  // RFC 9112 §6.3 item 7: no body
    }
}

/// Content-Length and Transfer-Encoding readers shared by request and response framing.
enum HTTPFraming {
    static func isContentLength(_ name: String) -> Bool { name.asciiCaseInsensitiveEquals("content-length") }
    static func isTransferEncoding(_ name: String) -> Bool { name.asciiCaseInsensitiveEquals("transfer-encoding") }

    static func presentFields(_ headers: HTTPHeaders) -> (contentLength: Bool, transferEncoding: Bool) {
        var cl = false, te = false
        for field in headers.fields {
            let n = field.name.utf8.count
            if n == 14, isContentLength(field.name) { cl = true } else if n == 17, isTransferEncoding(field.name) { te = true }
        }
        return (cl, te)
    }

    /// Every Content-Length field and list element must be the same 1–18 digit number
    /// (RFC 9110 §8.6, RFC 9112 §6.3 item 5); 18 digits cannot overflow Int.
    static func contentLength(_ headers: HTTPHeaders) -> Result<Int, HTTPParseError> {
        var agreed: Int? = nil
        for field in headers.fields where isContentLength(field.name) {
            var value = 0, digits = 0, ended = false
            var bytes = field.value.utf8.makeIterator(), finished = false
            while !finished {
                let b: UInt8
                if let next = bytes.next() { b = next } else { b = UInt8(ascii: ","); finished = true }  // close the last element
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard !ended, digits < 18 else { return .failure(.invalidContentLength) }
                    value = value * 10 + Int(b &- 0x30)
                    digits += 1
                case HTTPGrammar.sp, HTTPGrammar.htab:
                    ended = digits > 0  // "1 2" is not a number
                case UInt8(ascii: ","):
                    guard digits > 0 else { return .failure(.invalidContentLength) }
                    if let agreed, agreed != value { return .failure(.conflictingContentLength) }
                    agreed = value
                    value = 0; digits = 0; ended = false
                default:
                    return .failure(.invalidContentLength)
                }
            }
        }
        guard let agreed else { return .failure(.invalidContentLength) }
        return .success(agreed)
    }

    struct TransferCodings { var lastIsChunked = false, chunkedCount = 0, otherCount = 0 }

    /// The transfer-coding list across every Transfer-Encoding field (RFC 9112 §6.1), empty elements skipped (RFC 9110 §5.6.1).
    static func transferCodings(_ headers: HTTPHeaders) -> TransferCodings {
        var codings = TransferCodings()
        for field in headers.fields where isTransferEncoding(field.name) {
            var rest = Substring(field.value).utf8
            while true {
                let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                var element = rest[rest.startIndex..<comma]
                while let b = element.first, HTTPGrammar.isWhitespace(b) { element.removeFirst() }
                while let b = element.last, HTTPGrammar.isWhitespace(b) { element.removeLast() }
                if !element.isEmpty {
                    // "chunked" is all letters, so OR-ing 0x20 folds case without false matches.
                    let isChunked = element.elementsEqual("chunked".utf8) { $0 | 0x20 == $1 }
                    if isChunked { codings.chunkedCount += 1 } else { codings.otherCount += 1 }
                    codings.lastIsChunked = isChunked
                }
                guard comma < rest.endIndex else { break }
                rest = rest[rest.index(after: comma)...]
            }
        }
        return codings
    }
}
