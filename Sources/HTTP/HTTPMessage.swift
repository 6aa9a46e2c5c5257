/// The request line and header section of a request, as the parser produced it.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    /// The request target exactly as sent (RFC 9112 §3.2).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The still percent-encoded path of the target (absolute-form targets reduced to their path).
    public var path: String {
        // The common origin-form target ("/a/b" or "/a/b?q"): sliced without building a Substring chain.
        let utf8 = target.utf8
        if utf8.first == UInt8(ascii: "/") {
            guard let cut = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else { return target }
            return String(target[..<cut])
        }
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let schemeEnd = rest.firstRange(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        return rest.isEmpty ? "/" : String(rest)
    }

    /// The raw query string after `?`, without the fragment.
    public var query: String? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        var rest = target[target.index(after: q)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        return String(rest)
    }

    /// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 only with `keep-alive`.
    public var wantsKeepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if version == .http1_0 { return headers.containsToken("keep-alive", in: "Connection") }
        return version.major == 1 && version.minor >= 1
    }
}

/// A complete request handed to a handler: head, body and what routing found.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// Path parameters captured by the router, percent-decoded.
    public var pathParameters: [String: String]
    /// The route template that matched (`/v1/merchants/{accountId}/controls`), for logs and metrics.
    public var routeTemplate: String?
    /// The peer, as `ip:port`, when the request came over a socket.
    public var remoteAddress: String?
    /// What the server's head filter learnt of this request (`HeadScreening.proceed`), if any.
    public var screening: (any Sendable)?

    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String? = nil) {
        self.head = head
        self.body = body
        self.pathParameters = [:]
        self.routeTemplate = nil
        self.remoteAddress = remoteAddress
    }

    public init(method: HTTPMethod, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.init(head: HTTPRequestHead(method: method, target: target, headers: headers), body: body)
    }

    public var method: HTTPMethod { head.method }
    public var headers: HTTPHeaders { head.headers }
    public var path: String { head.path }
    public var query: [String: String] { QueryString.parse(head.query ?? "") }
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// A response: status, headers and a body that is either complete or streamed.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// A body produced piecewise; the server sends it chunked (or close-delimited to HTTP/1.0).
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: String) {
        self.init(status: status, headers: headers, body: Array(body.utf8))
    }

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), stream: @escaping @Sendable (ResponseBodyWriter) async throws -> Void) {
        self.status = status
        self.headers = headers
        self.body = .stream(stream)
    }

    /// The body bytes when complete; empty for a streamed body.
    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

/// Writes one piece of a streamed response body; suspends while the socket is backed up.
public struct ResponseBodyWriter: Sendable {
    let writeChunk: @Sendable ([UInt8]) async throws -> Void
    public init(_ writeChunk: @escaping @Sendable ([UInt8]) async throws -> Void) { self.writeChunk = writeChunk }
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await writeChunk(bytes)
    }
    public func write(_ string: String) async throws { try await write(Array(string.utf8)) }
}

/// A handler of the server: anything it throws becomes a 500 for that request only.
public typealias HTTPHandler = @Sendable (HTTPRequest) async throws -> HTTPResponse
