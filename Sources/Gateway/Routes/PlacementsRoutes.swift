import HTTP
import JSON
import Rokt

/// `POST /v1/placements/any`: the checkout page's BFF asks whether the upsell page should show.
///
/// Proxied to Rokt Ecommerce `POST /v1/Placements/any` with the server-held `rokt-api-key` and
/// `rokt-tag-id`; the consumer's `rokt-session-id`, `Accept-Language` and `User-Agent` pass
/// through. Not an operation, nothing stored, never retried: it sits on a checkout's critical
/// path, so the whole call has `PLACEMENTS_TIMEOUT_MS` and `PLACEMENTS_ON_ERROR` decides what a
/// failure looks like (`skip`: `{result: false, degraded: true}`; `error`: 502, or 504 when the
/// budget ran out). Needs the `read` scope (it changes nothing), or a publishable key from one of
/// its origins (`Authorization`).
struct PlacementsRoutes: Sendable {
    let services: GatewayServices

    /// Caller headers forwarded to Rokt, when present and sane.
    static let passThroughHeaders = ["rokt-session-id", "Accept-Language", "User-Agent"]

    func register(on router: inout Router) {
        router.post("/v1/placements/any", bodyLimit: 64 * 1024) { request in try await placementsAny(request) }
    }

    private func placementsAny(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try Self.upstreamBody(request)
        let budget = services.configuration.placementsTimeout
        let outcome = await services.rokt.placementsAny(
            body: Array(body.serialized.utf8), passThrough: Self.passThrough(request),
            timeout: budget)
        let failure: RoktError
        switch outcome.result {
        case .success(let response):
            if let result = (try? response.decode(JSONValue.self)).flatMap(RoktPlacements.result) {
                services.metrics.recordPlacements(.ok)
                return HTTPResponse(headers: ["Content-Type": "application/json"], body: result ? #"{"result":true}"# : #"{"result":false}"#)
            }
            failure = .malformedResponse("no boolean `result`", requestId: response.requestId)
        case .failure(let error):
            failure = error
        }
        let timedOut = failure.kind == .transport && failure.code == HTTPClientError.Kind.timedOut.rawValue
        services.metrics.recordPlacements(timedOut ? .timeout : services.configuration.placementsOnError == .skip ? .degraded : .error)
        services.logger.warn(
            "placements degraded",
            [
                "upstreamStatus": failure.status.map(String.init) ?? "-", "upstreamRequestId": failure.requestId ?? "-",
                "reason": timedOut ? "budget of \(budget.milliseconds) ms exceeded" : failure.kind.rawValue,
            ])
        switch services.configuration.placementsOnError {
        case .skip:
            return HTTPResponse(headers: ["Content-Type": "application/json"], body: #"{"degraded":true,"result":false}"#)
        case .error:
            throw Self.problem(for: failure, timedOut: timedOut, budget: budget)
        }
    }

    /// Under `PLACEMENTS_ON_ERROR=error`: 504 when the budget ran out, else 502 whatever Rokt said
    /// (the request passed our validation, so a Rokt 4xx is the gateway's problem, not the caller's).
    static func problem(for failure: RoktError, timedOut: Bool, budget: Duration) -> Problem {
        if timedOut {
            return Problem(
                status: 504, code: .placementsTimeout,
                detail: "Rokt did not answer within the placements budget of \(budget.milliseconds) ms.")
        }
        // Held back to protect Rokt (circuit open, Rokt's pause): 503 upstream_unavailable with Retry-After.
        if failure.kind == .notSent { return Problem.upstream(failure) }
        let unreachable = failure.kind == .transport
        return Problem(
            status: 502, code: unreachable ? .upstreamUnreachable : .upstreamError, detail: "Rokt: \(failure.message)",
            upstream: Problem.Upstream(status: failure.status, requestId: failure.requestId, message: unreachable ? nil : failure.message))
    }

    /// `{cartId?, pageIdentifier, url?, attributes?: {name: string}}`, re-serialised so only
    /// validated fields reach Rokt.
    static func upstreamBody(_ request: HTTPRequest) throws(Problem) -> JSONValue {
        let object = try RequestBody.object(request)
        var fields = RequestBody.Fields(object)
        let page = fields.string("pageIdentifier", maxLength: 200)
        if page?.isEmpty == true { fields.fail("pageIdentifier", "must not be empty") }
        let cartId = fields.string("cartId", required: false, maxLength: 200)
        let url = fields.string("url", required: false, maxLength: 2048)
        if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) { fields.fail("url", "must be an http(s) URL") }
        var attributes: [String: JSONValue] = [:]
        if let value = object["attributes"], value != .null {
            if case .object(let pairs) = value, pairs.count <= 100 {
                for (name, item) in pairs.sorted(by: { $0.key < $1.key }) {
                    guard case .string(let text) = item, text.count <= 1000 else {
                        fields.fail("attributes.\(name)", "must be a string of at most 1000 characters")
                        continue
                    }
                    attributes[name] = .string(text)
                }
            } else {
                fields.fail("attributes", "must be an object of at most 100 string values")
            }
        }
        fields.refuseUnknown(allowed: ["cartId", "pageIdentifier", "url", "attributes"])
        try fields.check()
        var body: [String: JSONValue] = ["pageIdentifier": .string(page!)]
        if let cartId { body["cartId"] = .string(cartId) }
        if let url { body["url"] = .string(url) }
        if !attributes.isEmpty { body["attributes"] = .object(attributes) }
        return .object(body)
    }

    /// The consumer's headers Rokt uses for tracking and locale; values with control characters
    /// or of absurd length are dropped rather than forwarded.
    static func passThrough(_ request: HTTPRequest) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for name in passThroughHeaders {
            guard let value = request.headers[name], (1...512).contains(value.utf8.count),
                value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F })
            else { continue }
            headers.add(name: name, value: value)
        }
        return headers
    }
}
