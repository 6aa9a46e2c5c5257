import HTTP

/// Which browser origins may call the gateway (CORS_ALLOWED_ORIGINS), and the headers that say so.
/// Pure: the request pipeline (`GatewayRouter.handle`) asks it, tests call it without sockets.
///
/// - Off when no origin is configured: no CORS header at all, `OPTIONS` is an ordinary 405.
/// - On: every response carries `Vary: Origin` (caches must not mix answers for two origins);
///   an allowed `Origin` gets `Access-Control-Allow-Origin: <that origin>` and the exposed headers.
///   A disallowed origin gets no CORS header and the request is still served: CORS protects
///   browsers, it is not authentication (the API key is).
/// - Preflight (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) on a registered path:
///   204 with the path's methods and the allowed request headers for an allowed origin; 403
///   problem `cors_origin_not_allowed` otherwise, so a misconfiguration is visible with curl.
/// - No `Access-Control-Allow-Credentials`: callers authenticate with a bearer key, never cookies.
public struct CORSPolicy: Sendable, Equatable {
    /// Lower-cased `scheme://host[:port]`.
    public private(set) var allowedOrigins: Set<String>
    /// `*` was configured: any origin is allowed (and echoed, so `Vary: Origin` stays right).
    public let allowsAnyOrigin: Bool

    public var isEnabled: Bool { allowsAnyOrigin || !allowedOrigins.isEmpty }

    static let allowedRequestHeaders =
        "Authorization, Content-Type, Idempotency-Key, Prefer, If-Match, X-Request-Id, rokt-session-id, Accept-Language"
    static let exposedHeaders = "X-Request-Id, Location, Idempotent-Replayed, Retry-After, ETag, Preference-Applied, WWW-Authenticate, RateLimit, RateLimit-Policy"
    /// Seconds a browser may cache a preflight answer.
    static let maxAgeSeconds = 600

    public init(allowedOrigins: [String]) {
        self.allowsAnyOrigin = allowedOrigins.contains("*")
        self.allowedOrigins = Set(allowedOrigins.filter { $0 != "*" }.map { $0.lowercased() })
    }

    public struct Invalid: Error, Equatable { public let message: String }

    /// `https://shop.example.com, http://localhost:3000` or `*`; an empty list turns CORS off.
    /// An origin is a scheme, a host and an optional port: a path, a query or userinfo is refused.
    public init(parsing raw: String) throws(Invalid) {
        var origins: [String] = []
        for item in raw.split(separator: ",") {
            let origin = String(item).trimmingHTTPWhitespace()
            if origin.isEmpty { continue }
            origins.append(origin == "*" ? origin : try Self.origin(parsing: origin))
        }
        self.init(allowedOrigins: origins)
    }

    /// One origin, `scheme://host[:port]`, lower-cased (a trailing `/` is dropped): a path, a query
    /// or userinfo is refused. Also the rule for a publishable key's `--origin`.
    public static func origin(parsing raw: String) throws(Invalid) -> String {
        var origin = raw
        if origin.hasSuffix("/") { origin.removeLast() }
        let lowered = origin.lowercased()
        guard let scheme = ["https://", "http://"].first(where: lowered.hasPrefix) else {
            throw Invalid(message: "must list origins like https://shop.example.com (or *), got \"\(origin)\"")
        }
        let authority = lowered.dropFirst(scheme.count)
        guard !authority.isEmpty, !authority.contains(where: { "/?#@ ".contains($0) }) else {
            throw Invalid(message: "an origin is scheme://host[:port] without a path, got \"\(origin)\"")
        }
        return lowered
    }

    /// The policy for one request. `POST /v1/placements/any` also admits the origin of any active
    /// publishable key, even when CORS_ALLOWED_ORIGINS is empty: a preflight carries no key, so the
    /// origin alone decides, and the key itself is checked against its own origins on the actual
    /// request (`Authorization`). Every other path keeps the configured policy.
    public func forRequest(path: String, origin: String?, isPublishableOrigin: (String) -> Bool) -> CORSPolicy {
        guard path == PublishableAccess.route, let origin, !allows(origin: origin), isPublishableOrigin(origin.lowercased()) else {
            return self
        }
        var policy = self
        policy.allowedOrigins.insert(origin.lowercased())
        return policy
    }

    public func allows(origin: String) -> Bool {
        allowsAnyOrigin || allowedOrigins.contains(origin.lowercased())
    }

    /// Whether `request` is a CORS preflight this policy must answer.
    public func isPreflight(_ request: HTTPRequest) -> Bool {
        isEnabled && request.method == .options && request.headers.contains("Origin")
            && request.headers.contains("Access-Control-Request-Method")
    }

    /// The answer to a preflight on a path that has `methods` (from the router).
    public func preflightResponse(origin: String, methods: [HTTPMethod]) -> HTTPResponse {
        guard allows(origin: origin) else {
            return Problem(
                status: 403, code: .corsOriginNotAllowed,
                detail: "Origin \(origin) is not in CORS_ALLOWED_ORIGINS."
            ).response(headers: ["Vary": "Origin"])
        }
        return HTTPResponse(
            status: .noContent,
            headers: [
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": methods.map(\.rawValue).joined(separator: ", "),
                "Access-Control-Allow-Headers": Self.allowedRequestHeaders,
                "Access-Control-Max-Age": String(Self.maxAgeSeconds),
                "Vary": "Origin",
            ])
    }

    /// Adds the CORS headers of an actual (non-preflight) response.
    public func decorate(_ response: inout HTTPResponse, origin: String?) {
        guard isEnabled else { return }
        response.headers.add(name: "Vary", value: "Origin")
        guard let origin, allows(origin: origin) else { return }
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: origin)
        response.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
    }
}
