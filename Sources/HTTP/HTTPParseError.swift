/// Why a message head, its framing or a chunked body was refused.
///
/// A struct wrapping a private enum so that reasons can be added without breaking
/// callers that switch on it. Each reason knows the status a server answers with
/// (`status`) and a sentence a 400 body can show (`description`).
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Reason: Equatable, Sendable {
        case invalidRequestLine, invalidMethod, invalidTarget, unsupportedVersion
        case invalidHeaderName, invalidHeaderValue, obsoleteLineFolding, bareCR, bareLF
        case whitespaceBeforeColon, headersTooLarge, tooManyHeaders, targetTooLong
        case conflictingContentLength, invalidContentLength, contentLengthWithTransferEncoding
        case transferEncodingNotChunkedLast, chunkedAppliedMoreThanOnce, unsupportedTransferCoding
        case transferEncodingInHTTP10, missingHost, multipleHost
        case invalidChunkSize, invalidChunkExtension, invalidChunkFraming, chunkExtensionTooLong
        case trailersTooLarge, invalidStatusLine
    }

    private let reason: Reason
    private init(_ reason: Reason) { self.reason = reason }

    // Start line
    public static let invalidRequestLine = HTTPParseError(.invalidRequestLine)
    public static let invalidMethod = HTTPParseError(.invalidMethod)
    public static let invalidTarget = HTTPParseError(.invalidTarget)
    public static let unsupportedVersion = HTTPParseError(.unsupportedVersion)
    public static let targetTooLong = HTTPParseError(.targetTooLong)
    public static let invalidStatusLine = HTTPParseError(.invalidStatusLine)
    // Field lines
    public static let invalidHeaderName = HTTPParseError(.invalidHeaderName)
    public static let invalidHeaderValue = HTTPParseError(.invalidHeaderValue)
    public static let obsoleteLineFolding = HTTPParseError(.obsoleteLineFolding)
    public static let bareCR = HTTPParseError(.bareCR)
    public static let bareLF = HTTPParseError(.bareLF)
    public static let whitespaceBeforeColon = HTTPParseError(.whitespaceBeforeColon)
    public static let headersTooLarge = HTTPParseError(.headersTooLarge)
    public static let tooManyHeaders = HTTPParseError(.tooManyHeaders)
    public static let missingHost = HTTPParseError(.missingHost)
    public static let multipleHost = HTTPParseError(.multipleHost)
    // Framing
    public static let conflictingContentLength = HTTPParseError(.conflictingContentLength)
    public static let invalidContentLength = HTTPParseError(.invalidContentLength)
    public static let contentLengthWithTransferEncoding = HTTPParseError(.contentLengthWithTransferEncoding)
    public static let transferEncodingNotChunkedLast = HTTPParseError(.transferEncodingNotChunkedLast)
    public static let chunkedAppliedMoreThanOnce = HTTPParseError(.chunkedAppliedMoreThanOnce)
    public static let unsupportedTransferCoding = HTTPParseError(.unsupportedTransferCoding)
    public static let transferEncodingInHTTP10 = HTTPParseError(.transferEncodingInHTTP10)
    // Chunked body
    public static let invalidChunkSize = HTTPParseError(.invalidChunkSize)
    public static let invalidChunkExtension = HTTPParseError(.invalidChunkExtension)
    public static let invalidChunkFraming = HTTPParseError(.invalidChunkFraming)
    public static let chunkExtensionTooLong = HTTPParseError(.chunkExtensionTooLong)
    public static let trailersTooLarge = HTTPParseError(.trailersTooLarge)

    /// The status a server answers with before closing the connection.
    public var status: HTTPStatus {
        switch reason {
        case .headersTooLarge, .tooManyHeaders, .trailersTooLarge: .requestHeaderFieldsTooLarge
        case .targetTooLong: .uriTooLong
        case .unsupportedVersion: .httpVersionNotSupported
        // RFC 9112 §6.1: a coding the server does not understand deserves 501.
        case .unsupportedTransferCoding: .notImplemented
        default: .badRequest
        }
    }

    public var description: String {
        switch reason {
        case .invalidRequestLine: "The request line must be method SP request-target SP HTTP-version CRLF (RFC 9112 §3)"
        case .invalidMethod: "The method must be a token (RFC 9110 §9.1)"
        case .invalidTarget: "The request-target is not in a form allowed for this method (RFC 9112 §3.2)"
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported (RFC 9110 §6.2)"
        case .targetTooLong: "The request-target is longer than this server accepts (RFC 9112 §3)"
        case .invalidStatusLine: "The status line must be HTTP-version SP 3DIGIT SP reason-phrase CRLF (RFC 9112 §4)"
        case .invalidHeaderName: "A field name must be a non-empty token followed by a colon (RFC 9112 §5)"
        case .invalidHeaderValue: "A field value must not contain control characters (RFC 9110 §5.5)"
        case .obsoleteLineFolding: "A field line must not start with whitespace; obsolete line folding is refused (RFC 9112 §5.2)"
        case .bareCR: "A CR must be followed by LF (RFC 9112 §2.2)"
        case .bareLF: "Lines must end with CRLF, not a bare LF (RFC 9112 §2.2)"
        case .whitespaceBeforeColon: "No whitespace is allowed between a field name and the colon (RFC 9112 §5.1)"
        case .headersTooLarge: "The request head is larger than this server accepts (RFC 6585 §5)"
        case .tooManyHeaders: "The request has more header fields than this server accepts (RFC 6585 §5)"
        case .missingHost: "An HTTP/1.1 request must carry a Host header field (RFC 9112 §3.2)"
        case .multipleHost: "A request must not carry more than one Host header field (RFC 9112 §3.2)"
        case .conflictingContentLength: "Content-Length fields disagree (RFC 9112 §6.3)"
        case .invalidContentLength: "Content-Length must be a non-negative decimal number (RFC 9110 §8.6)"
        case .contentLengthWithTransferEncoding: "Content-Length and Transfer-Encoding must not both be present (RFC 9112 §6.3)"
        case .transferEncodingNotChunkedLast: "chunked must be the final transfer coding of a request (RFC 9112 §6.3)"
        case .chunkedAppliedMoreThanOnce: "chunked must not be applied more than once (RFC 9112 §6.1)"
        case .unsupportedTransferCoding: "Only the chunked transfer coding is implemented (RFC 9112 §6.1)"
        case .transferEncodingInHTTP10: "Transfer-Encoding is not defined for HTTP/1.0 messages (RFC 9112 §6.1)"
        case .invalidChunkSize: "A chunk size must be 1 to 16 hexadecimal digits (RFC 9112 §7.1)"
        case .invalidChunkExtension: "A chunk extension must be ;name or ;name=value (RFC 9112 §7.1.1)"
        case .invalidChunkFraming: "Chunk data must be followed by CRLF (RFC 9112 §7.1)"
        case .chunkExtensionTooLong: "A chunk size line is longer than this server accepts (RFC 9112 §7.1.1)"
        case .trailersTooLarge: "The trailer section is larger than this server accepts (RFC 9112 §7.1.2)"
        }
    }
}
