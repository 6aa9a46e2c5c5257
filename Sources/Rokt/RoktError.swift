import HTTP

/// Why a Rokt call did not produce a usable answer; it knows whether a retry is right.
public struct RoktError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// No HTTP answer: connect, TLS, timeout, reset.
        case transport
        /// Rokt answered with a non-2xx status.
        case upstream
        /// Rokt answered 2xx with a body we cannot read.
        case malformedResponse
        /// Held back by the gateway to protect Rokt (`UpstreamProtection`): the circuit is open,
        /// Rokt asked us to pause, or the call waited too long for its turn. Never sent.
        case notSent
    }

    public let kind: Kind
    /// Rokt's status when it answered.
    public let status: Int?
    public let code: String?
    public let message: String
    public let requestId: String?
    public let retryAfter: Duration?
    /// For transport failures: whether the request may have reached Rokt.
    public let mayHaveReachedRokt: Bool

    public init(kind: Kind, status: Int?, code: String?, message: String, requestId: String?, retryAfter: Duration?, mayHaveReachedRokt: Bool) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
        self.retryAfter = retryAfter
        self.mayHaveReachedRokt = mayHaveReachedRokt
    }

    public static func transport(_ error: HTTPClientError) -> RoktError {
        RoktError(
            kind: .transport, status: nil, code: error.kind.rawValue, message: error.description, requestId: nil,
            retryAfter: nil, mayHaveReachedRokt: error.mayHaveReachedServer)
    }

    public static func upstream(_ response: RoktResponse) -> RoktError { upstream(response, retryAfter: response.retryAfter) }

    /// Rokt's refusal, with its `Retry-After` as read against the wall clock (`RetryAfter.parse`).
    public static func upstream(_ response: RoktResponse, retryAfter: Duration?) -> RoktError {
        RoktError(
            kind: .upstream, status: response.status, code: response.errorCode,
            message: response.message ?? "Rokt answered \(response.status)", requestId: response.requestId,
            retryAfter: retryAfter, mayHaveReachedRokt: true)
    }

    /// A call the gateway held back (`reason` is its code); worth trying again after `retryAfter`.
    public static func notSent(_ reason: UpstreamHoldReason, retryAfter: Duration) -> RoktError {
        RoktError(
            kind: .notSent, status: nil, code: reason.rawValue, message: reason.message, requestId: nil, retryAfter: retryAfter,
            mayHaveReachedRokt: false)
    }

    public static func malformedResponse(_ detail: String, requestId: String?) -> RoktError {
        RoktError(
            kind: .malformedResponse, status: nil, code: nil, message: "unreadable Rokt response: \(detail)",
            requestId: requestId, retryAfter: nil, mayHaveReachedRokt: true)
    }

    /// A request the client refused to send (a path with an empty, `.` or `..` segment): final,
    /// reported like Rokt's own refusal of a bad request, and never reached Rokt.
    public static func unsafePath(_ path: String) -> RoktError {
        RoktError(
            kind: .upstream, status: 400, code: "unsafe_path", message: "request not sent: a path segment is empty, '.' or '..'",
            requestId: nil, retryAfter: nil, mayHaveReachedRokt: false)
    }

    /// 5xx, 429, 408 and every transport failure are retried (with the same idempotency key);
    /// other 4xx are final.
    public var isRetryable: Bool {
        switch kind {
        case .transport, .notSent: return true
        case .malformedResponse: return false
        case .upstream:
            guard let status else { return false }
            return status >= 500 || status == 429 || status == 408
        }
    }

    public var isConflict: Bool { kind == .upstream && status == 409 }

    public var description: String {
        var text = "Rokt \(kind.rawValue) error"
        if let status { text += " \(status)" }
        if let code { text += " (\(code))" }
        text += ": \(message)"
        if let requestId { text += " [request_id \(requestId)]" }
        return text
    }
}
