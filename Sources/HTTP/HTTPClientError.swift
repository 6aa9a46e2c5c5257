/// Why a client request failed, and whether it can have reached the server: the fact a
/// caller needs before it retries a non-idempotent write.
public struct HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable kind callers can switch over.
    public enum Kind: String, Sendable, Equatable {
        case invalidURL, resolutionFailed, connectFailed, connectTimeout, tlsFailed
        case timedOut, connectionReset, invalidResponse, responseTooLarge, poolTimeout, cancelled, shutdown
        /// The host resolved to an address the client's `addressPolicy` refuses: nothing was sent.
        case addressRefused
    }

    public let kind: Kind
    /// True when some or all of the request may have been delivered (bytes were written).
    public let mayHaveReachedServer: Bool
    public let detail: String
    /// The connection ended before a single response byte: on a reused keep-alive connection
    /// this is the server having closed it while idle, which the client may retry once.
    let closedBeforeResponse: Bool

    init(_ kind: Kind, reached: Bool, _ detail: String, closedBeforeResponse: Bool = false) {
        self.kind = kind
        self.mayHaveReachedServer = reached
        self.detail = detail
        self.closedBeforeResponse = closedBeforeResponse
    }

    public var description: String {
        "\(kind.rawValue)\(mayHaveReachedServer ? " (request may have reached the server)" : " (request not sent)"): \(detail)"
    }

    static func invalidURL(_ url: String) -> HTTPClientError { .init(.invalidURL, reached: false, "not an http(s) URL: \(url)") }
    static func resolution(_ host: String, _ reason: String) -> HTTPClientError { .init(.resolutionFailed, reached: false, "\(host): \(reason)") }
    static func connect(_ target: String, _ reason: String) -> HTTPClientError { .init(.connectFailed, reached: false, "\(target): \(reason)") }
    static func connectTimeout(_ target: String) -> HTTPClientError { .init(.connectTimeout, reached: false, "\(target): no connection within the connect timeout") }
    static func tls(_ error: TLSError) -> HTTPClientError { .init(.tlsFailed, reached: false, error.description) }
    static func timedOut(afterSending sent: Bool) -> HTTPClientError {
        .init(.timedOut, reached: sent, sent ? "no complete response within the request timeout" : "timed out before the request was sent")
    }
    static func reset(afterSending sent: Bool, _ reason: String, beforeResponse: Bool = false) -> HTTPClientError {
        .init(.connectionReset, reached: sent, reason, closedBeforeResponse: beforeResponse)
    }
    static func invalidResponse(_ reason: String) -> HTTPClientError { .init(.invalidResponse, reached: true, reason) }
    static func tooLarge(_ limit: Int) -> HTTPClientError { .init(.responseTooLarge, reached: true, "response body over \(limit) bytes") }
    static let poolTimeout = HTTPClientError(.poolTimeout, reached: false, "no pooled connection became free in time")
    static func cancelled(afterSending sent: Bool) -> HTTPClientError { .init(.cancelled, reached: sent, "the request was cancelled") }
    static func addressRefused(_ host: String, _ address: String, _ reason: String) -> HTTPClientError {
        .init(.addressRefused, reached: false, "\(host) resolves to \(address): \(reason)")
    }
    static let shutdown = HTTPClientError(.shutdown, reached: false, "the client is shut down")
}
