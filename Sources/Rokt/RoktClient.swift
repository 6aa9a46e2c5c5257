import HTTP

/// Where Rokt is and who we are to it. The token is a secret: it is sent, never logged or echoed.
public struct RoktConfiguration: Sendable {
    public var baseURL: String
    public var token: String
    public var parentAccountId: String
    public var ecommerceBaseURL: String
    public var ecommerceApiKey: String
    public var tagId: String
    public var requestTimeout: Duration

    public init(
        baseURL: String = "https://accounts.rokt.com", token: String, parentAccountId: String,
        ecommerceBaseURL: String = "https://api.rokt.com", ecommerceApiKey: String = "", tagId: String = "",
        requestTimeout: Duration = .seconds(10)
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.parentAccountId = parentAccountId
        self.ecommerceBaseURL = ecommerceBaseURL.hasSuffix("/") ? String(ecommerceBaseURL.dropLast()) : ecommerceBaseURL
        self.ecommerceApiKey = ecommerceApiKey
        self.tagId = tagId
        self.requestTimeout = requestTimeout
    }
}

/// One upstream call as a support ticket needs it (Rokt asks for the Idempotency-Key and the request_id).
public struct UpstreamCall: Codable, Sendable, Equatable {
    public var method: String
    public var path: String
    public var idempotencyKey: String?
    public var status: Int?
    public var requestId: String?
    public var operationId: String?
    public var durationMs: Int
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// For calls that got no HTTP answer: what happened instead.
    public var error: String?
    /// The W3C trace the call was made in (its `traceparent` carried this trace id).
    public var traceId: String? = nil
    /// Held back by `UpstreamProtection` and never sent (not logged with operations).
    public var held: Bool? = nil
}

/// The Partnerships API and the Ecommerce placements call, over our HTTP client. Every call
/// returns its `UpstreamCall` record with the outcome, success or not, so nothing goes unlogged.
/// Every call passes `protection` first (the outbound limits, Rokt's pause, the circuit breaker).
public final class RoktClient: Sendable {
    public let configuration: RoktConfiguration
    public let protection: UpstreamProtection
    private let http: HTTPClient
    private let now: @Sendable () -> Int64
    /// Told about every finished call (metrics); must be quick, it runs on the caller's task.
    private let observe: @Sendable (UpstreamCall) -> Void

    public init(
        configuration: RoktConfiguration, http: HTTPClient, now: @escaping @Sendable () -> Int64,
        protection: UpstreamProtection = UpstreamProtection(), observe: @escaping @Sendable (UpstreamCall) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.protection = protection
        self.http = http
        self.now = now
        self.observe = observe
    }

    public typealias Outcome<T> = (result: Result<T, RoktError>, call: UpstreamCall)

    /// Sends one Partnerships request. Writes must carry `idempotencyKey` (Rokt refuses them without).
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        idempotencyKey: String? = nil
    ) async -> Outcome<RoktResponse> {
        var headers: HTTPHeaders = [
            "Authorization": "Bearer \(configuration.token)",
            "X-Platform-Parent-Account-Id": configuration.parentAccountId,
            "Accept": "application/json",
        ]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        if let idempotencyKey { headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        let target = path + Self.queryString(query)
        guard RoktPath.isSafe(path: path) else {
            // Never sent: a dot segment would address another resource than the one meant.
            let call = UpstreamCall(
                method: method.rawValue, path: target, idempotencyKey: idempotencyKey, status: nil, requestId: nil,
                operationId: nil, durationMs: 0, at: now(), error: "not sent: unsafe path segment")
            return (.failure(.unsafePath(path)), call)
        }
        return await exchange(
            method, url: configuration.baseURL + target, logPath: target, headers: headers, body: body,
            idempotencyKey: idempotencyKey)
    }

    /// Ecommerce `POST /v1/Placements/any`, with the server-held key and tag id.
    public func placementsAny(body: [UInt8], passThrough: HTTPHeaders, timeout: Duration) async -> Outcome<RoktResponse> {
        var headers: HTTPHeaders = [
            "rokt-api-key": configuration.ecommerceApiKey,
            "rokt-tag-id": configuration.tagId,
            "Content-Type": "application/json",
            "Accept": "application/json",
        ]
        for field in passThrough { headers.add(name: field.name, value: field.value) }
        return await exchange(
            .post, url: configuration.ecommerceBaseURL + "/v1/Placements/any", logPath: "/v1/Placements/any",
            headers: headers, body: body, idempotencyKey: nil, timeout: timeout)
    }

    private func exchange(
        _ method: HTTPMethod, url: String, logPath: String, headers: HTTPHeaders, body: [UInt8]?, idempotencyKey: String?,
        timeout: Duration? = nil
    ) async -> Outcome<RoktResponse> {
        let trace = TraceContext.current
        var call = UpstreamCall(
            method: method.rawValue, path: logPath, idempotencyKey: idempotencyKey, status: nil,
            requestId: nil, operationId: nil, durationMs: 0, at: now(), error: nil, traceId: trace?.traceId)
        let permit: UpstreamProtection.Permit
        switch await protection.admit(priority: UpstreamPriority.current, budget: timeout) {
        case .success(let admitted): permit = admitted
        case .failure(let error):
            call.error = "not sent: \(error.message)"
            call.held = true
            return (.failure(error), call)
        }
        // What the call waited for its turn comes out of a caller's budget (placements).
        let timeout = timeout.map { max(.milliseconds(1), $0 - permit.waited) } ?? configuration.requestTimeout
        let started = now()
        call.at = started
        let clock = ContinuousClock.now
        var headers = headers
        trace?.propagate(into: &headers)
        do {
            let answer = try await http.execute(HTTPClientRequest(method: method, url: url, headers: headers, body: body), timeout: timeout)
            let response = RoktResponse(status: answer.status.code, headers: answer.headers, body: answer.body)
            call.durationMs = Self.milliseconds(since: clock)
            call.status = response.status
            call.requestId = response.requestId
            call.operationId = response.operationId
            let retryAfter =
                RetryAfter.parse(response.headers["Retry-After"], nowMillis: started, cap: .seconds(3600))
                ?? response.retryAfter
            protection.finish(permit, health: Self.health(status: response.status), pause: response.status == 429 ? retryAfter : nil)
            observe(call)
            return (response.isSuccess ? .success(response) : .failure(.upstream(response, retryAfter: retryAfter)), call)
        } catch {
            call.durationMs = Self.milliseconds(since: clock)
            call.error = error.description
            protection.finish(permit, health: Self.health(of: error), pause: nil)
            observe(call)
            return (.failure(.transport(error)), call)
        }
    }

    /// What an answer says about Rokt's health: 429, 408 and 5xx count against it.
    static func health(status: Int) -> UpstreamCallHealth {
        status >= 500 || status == 429 || status == 408 ? .failing : .healthy
    }

    /// Timeouts and failed connections count against Rokt; our own cancellations and limits do not.
    static func health(of error: HTTPClientError) -> UpstreamCallHealth {
        switch error.kind {
        case .resolutionFailed, .connectFailed, .connectTimeout, .tlsFailed, .timedOut, .connectionReset, .invalidResponse: .failing
        default: .neutral
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?"
            + query.map { "\(PercentEncoding.encodeQueryComponent($0.0))=\(PercentEncoding.encodeQueryComponent($0.1))" }
            .joined(separator: "&")
    }
}
