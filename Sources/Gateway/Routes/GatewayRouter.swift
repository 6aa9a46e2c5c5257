import HTTP

/// Every route of the gateway behind one handler that stamps `X-Request-Id` on every response
/// (the caller's, when it sent a sane one), applies the CORS policy, counts the request for
/// `/metrics` and writes the access log.
struct GatewayRouter: Sendable {
    let router: Router
    let services: GatewayServices

    init(services: GatewayServices) {
        self.services = services
        var router = Router()
        let logger = services.logger
        router.errorReporter = { error, errorId, request in
            logger.error(
                "request failed",
                [
                    "errorId": errorId, "method": Self.loggedMethod(request.method), "route": request.routeTemplate ?? "-",
                    "error": String(describing: type(of: error)),
                ])
        }
        HealthRoutes(services: services).register(on: &router)
        ControlsRoutes(services: services).register(on: &router)
        StatusRoutes(services: services).register(on: &router)
        OperationRoutes(services: services).register(on: &router)
        PlacementsRoutes(services: services).register(on: &router)
        MerchantRoutes(services: services).register(on: &router)
        WritePipeline(services: services).register(WriteEndpoint.all, on: &router)
        WebhookRoutes(services: services).register(on: &router)
        self.router = router
    }

    func bodyLimit(method: HTTPMethod, path: String) -> Int? { router.bodyLimit(method: method, path: path) }

    /// Handles one request inside its trace (the caller's `traceparent`, or a new trace) and its
    /// access-log notes, so every line logged and every call made on its behalf carries them.
    @Sendable
    func handle(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        let requestId = Self.requestId(from: request) ?? Identifiers.requestId(now: services.clock.nowMillis())
        let trace = TraceContext.incoming(request.headers, requestId: requestId, random: services.random)
        let notes = RequestNotes()
        return try await RequestNotes.$current.withValue(notes) {
            try await TraceContext.withCurrent(trace) {
                let matched = router.match(method: request.method, path: request.path)
                let cors = corsPolicy(path: request.path, origin: request.headers["Origin"])
                var response: HTTPResponse
                if case .methodNotAllowed(let allowed) = matched, cors.isPreflight(request) {
                    // Routes never register OPTIONS, so a preflight on any registered path lands here.
                    response = cors.preflightResponse(origin: request.headers["Origin"] ?? "", methods: allowed)
                } else {
                    response = try await respond(to: request, matched: matched)
                    cors.decorate(&response, origin: request.headers["Origin"])
                }
                var template: String?
                if case .found(_, _, let found, _) = matched { template = found }
                record(
                    &response, of: request.head, remoteAddress: request.remoteAddress, bytesIn: request.body.count, requestId: requestId,
                    template: template, started: started, notes: notes)
                return response
            }
        }
    }

    /// Runs the matched route. A keyed route's caller is authenticated and authorised here, once,
    /// and its handler runs with it (`Caller.current`) for its finer checks (a merchant from the
    /// body, an endpoint for unrestricted callers only).
    private func respond(to request: HTTPRequest, matched: RouteMatch) async throws -> HTTPResponse {
        guard let attempt = Self.attempt(request.head, remoteAddress: request.remoteAddress, matched: matched) else {
            return try await router.handle(request, matched: matched)
        }
        if let invalid = Self.invalidReadPath(attempt) { return invalid.response() }
        let caller: Caller
        switch await Authorization(services: services).authorize(attempt, identified: request.screening as? Caller) {
        case .success(let authorized): caller = authorized
        case .failure(let refusal): return refusal.response()
        }
        // After authentication, before anything touches the store or Rokt: a refused request
        // stores nothing, not even its Idempotency-Key.
        let limit = services.callerLimits.admit(
            partition: caller.rateLimitPartition, class: caller.rateLimitClass(method: attempt.method, template: attempt.template))
        if let refusal = limit.refusal { return refusal.response() }
        var response = try await Caller.$current.withValue(caller) { try await router.handle(request, matched: matched) }
        limit.apply(to: &response)
        return response
    }

    /// What authorisation needs of a request to a keyed route; nil for a route without a key.
    private static func attempt(_ head: HTTPRequestHead, remoteAddress: String?, matched: RouteMatch) -> Authorization.Attempt? {
        guard case .found(_, let parameters, let template, _) = matched,
            let requirement = KeyRequirement.of(method: head.method, template: template)
        else { return nil }
        return Authorization.Attempt(
            method: head.method, template: template, headers: head.headers, remoteAddress: remoteAddress, requirement: requirement,
            merchant: requirement.merchantParameter.map { parameters[$0] ?? "" })
    }

    /// A read checks its path's merchant before the key (openapi/gateway.yaml, `accountId`); a
    /// write after it (`WritePipeline`).
    private static func invalidReadPath(_ attempt: Authorization.Attempt) -> Problem? {
        guard attempt.method == .get || attempt.method == .head, let name = attempt.requirement.merchantParameter else { return nil }
        do throws(Problem) {
            _ = try PathParameter.identifier(attempt.merchant ?? "", name)
            return nil
        } catch {
            return error
        }
    }

    /// CORS_ALLOWED_ORIGINS, and on placements the origins of active publishable keys too.
    private func corsPolicy(path: String, origin: String?) -> CORSPolicy {
        services.configuration.cors.forRequest(path: path, origin: origin, isPublishableOrigin: services.keyRing.isPublishableOrigin)
    }

    /// Asked by the server from a request's head, before its body is read: a route that needs a
    /// credential refuses a missing, unknown, under-scoped or wrong-merchant one here, with the
    /// answer `handle` would give, so a body is never buffered for a caller who may not send it.
    ///
    /// A caller it lets through is handed on with the request (`HTTPRequest.screening`), so the
    /// handler does not authenticate it again.
    @Sendable
    func screen(_ head: HTTPRequestHead, remoteAddress: String? = nil) -> HeadScreening {
        let started = ContinuousClock.now
        let matched = router.match(method: head.method, path: head.path)
        guard let attempt = Self.attempt(head, remoteAddress: remoteAddress, matched: matched), Self.invalidReadPath(attempt) == nil else {
            return .proceed()
        }
        let notes = RequestNotes()
        var response: HTTPResponse
        switch RequestNotes.$current.withValue(notes, operation: { Authorization(services: services).decide(attempt) }) {
        case .refused(let refusal):
            response = refusal.response()
        case .allowed(let caller):
            // A caller out of budget is refused before its body is read; `peek` charges nothing,
            // `handle` charges the request that goes on.
            let limit = services.callerLimits.peek(
                partition: caller.rateLimitPartition, class: caller.rateLimitClass(method: attempt.method, template: attempt.template))
            guard let refusal = limit.refusal else { return .proceed(finding: caller) }
            response = refusal.response()
        case .unknownTokenKey:
            // A token signed with a key not yet fetched is left to the handler, which may wait for it.
            return .proceed()
        }
        corsPolicy(path: head.path, origin: head.headers["Origin"]).decorate(&response, origin: head.headers["Origin"])
        let request = HTTPRequest(head: head)
        let requestId = Self.requestId(from: request) ?? Identifiers.requestId(now: services.clock.nowMillis())
        let trace = TraceContext.incoming(head.headers, requestId: requestId, random: services.random)
        TraceContext.withCurrent(trace) {
            record(
                &response, of: head, remoteAddress: remoteAddress, bytesIn: 0, requestId: requestId, template: attempt.template,
                started: started, notes: notes)
        }
        return .refuse(response)
    }

    /// Stamps the request id, counts the request for `/metrics` and writes the access log.
    private func record(
        _ response: inout HTTPResponse, of head: HTTPRequestHead, remoteAddress: String?, bytesIn: Int, requestId: String,
        template: String?, started: ContinuousClock.Instant, notes: RequestNotes?
    ) {
        response.headers["X-Request-Id"] = requestId
        let elapsed = ContinuousClock.now - started
        services.metrics.recordRequest(method: head.method, route: template, status: response.status.code, duration: elapsed)
        var bytesOut: Int?
        if case .bytes(let body) = response.body { bytesOut = body.count }
        let status = response.status.code
        services.logger.log(
            .info, "request",
            values: AccessLogEntry(
                requestId: requestId, method: Self.loggedMethod(head.method), path: head.path, route: template, status: status,
                duration: elapsed, clientAddress: services.configuration.trustedProxies.clientAddress(peer: remoteAddress, headers: head.headers),
                bytesIn: bytesIn, bytesOut: bytesOut, apiKeyId: notes?.apiKeyId, userSubject: notes?.userSubject, tokenId: notes?.tokenId,
                operationId: notes?.operationId
            ).fields)
    }

    /// The method as the access log writes it: any token is a valid method, so a long one is cut
    /// (the parser already limits it to token characters, so nothing needs escaping).
    static func loggedMethod(_ method: HTTPMethod) -> String {
        method.rawValue.utf8.count <= maxLoggedMethodBytes ? method.rawValue : String(method.rawValue.prefix(maxLoggedMethodBytes)) + "…"
    }

    static let maxLoggedMethodBytes = 32

    /// The caller's id when it is printable ASCII of sane length; anything else is replaced.
    static func requestId(from request: HTTPRequest) -> String? {
        guard let value = request.headers["X-Request-Id"], (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return value
    }
}
