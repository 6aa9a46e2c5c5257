import HTTP
import JSON

/// `/v1/webhook-endpoints…` and `/v1/webhook-deliveries/{id}/redeliver` (scope `webhooks`).
/// An endpoint receives the events of every merchant, so only keys not limited to merchants manage them.
struct WebhookRoutes: Sendable {
    let services: GatewayServices
    static let maxURLLength = 2048
    static let maxDescriptionLength = 500

    func register(on router: inout Router) {
        router.post("/v1/webhook-endpoints", bodyLimit: 16 * 1024) { request in
            let caller = try authorize(request)
            return try await InboundIdempotency(services: services).run(request, caller: caller, secret: secretAnswer) { _ in try await create(request) }
        }
        router.get("/v1/webhook-endpoints") { request in
            _ = try authorize(request)
            let now = services.clock.nowMillis()
            let endpoints = try await services.webhookAdmin.endpoints()
            return HTTPResponse.json(.object(["data": .array(endpoints.map { .object($0.document(now: now)) })]))
        }
        router.get("/v1/webhook-endpoints/{id}") { request in
            _ = try authorize(request)
            let endpoint = try await load(request.pathParameters["id"] ?? "")
            return HTTPResponse.json(.object(endpoint.document(now: services.clock.nowMillis())))
        }
        router.delete("/v1/webhook-endpoints/{id}") { request in
            let caller = try authorize(request)
            let id = request.pathParameters["id"] ?? ""
            return try await InboundIdempotency(services: services).run(request, caller: caller) { _ in
                guard try await services.webhookAdmin.deleteEndpoint(id) else { throw Self.noEndpoint(id) }
                return HTTPResponse(status: .noContent)
            }
        }
        router.post("/v1/webhook-endpoints/{id}/rotate-secret") { request in
            let caller = try authorize(request)
            return try await InboundIdempotency(services: services).run(request, caller: caller, secret: secretAnswer) { _ in try await rotate(request) }
        }
        router.get("/v1/webhook-endpoints/{id}/deliveries") { request in
            _ = try authorize(request)
            let id = request.pathParameters["id"] ?? ""
            var limit = 50
            if let raw = request.query["limit"] {
                guard let value = Int(raw), (1...200).contains(value) else { throw Problem.validation(field: "limit", "must be between 1 and 200") }
                limit = value
            }
            guard let page = try await services.webhookAdmin.deliveries(endpointId: id, limit: limit + 1, after: request.query["after"]) else {
                throw Self.noEndpoint(id)
            }
            let items = Array(page.prefix(limit))
            return HTTPResponse.json(.object(["data": .array(items.map(\.document)), "nextCursor": page.count > limit ? .string(items.last!.id) : .null]))
        }
        router.post("/v1/webhook-deliveries/{id}/redeliver") { request in
            let caller = try authorize(request)
            return try await InboundIdempotency(services: services).run(request, caller: caller) { _ in try await redeliver(request) }
        }
    }

    private var secretAnswer: WebhookSecretAnswer { WebhookSecretAnswer(store: services.webhookAdmin) }

    /// The caller (scope `webhooks`, checked by `Authorization`), if it may see every merchant.
    private func authorize(_ request: HTTPRequest) throws(Problem) -> Caller {
        let caller = try Authorization.caller()
        guard caller.merchants == nil else {
            throw Problem.forbidden("Webhook endpoints receive the events of every merchant: \(caller.noun) is limited to some merchants.")
        }
        return caller
    }

    private func load(_ id: String) async throws -> WebhookEndpoint {
        guard let endpoint = try await services.webhookAdmin.endpoint(id) else { throw Self.noEndpoint(id) }
        return endpoint
    }

    private func create(_ request: HTTPRequest) async throws -> HTTPResponse {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let url = fields.string("url", maxLength: Self.maxURLLength)
        let description = fields.string("description", required: false, maxLength: Self.maxDescriptionLength)
        var events: [WebhookEventType]?
        if let items = fields.array("events", maxCount: WebhookEventType.allCases.count * 2) {
            let names = items.map { $0.stringValue }
            let unknown = names.enumerated().filter { $0.element.flatMap(WebhookEventType.init(rawValue:)) == nil }
            if items.isEmpty {
                fields.fail("events", "must name at least one event type (leave it out for all of them)")
            } else if !unknown.isEmpty {
                let shown = unknown.map { $0.element.map { "\"\($0)\"" } ?? "a non-string at index \($0.offset)" }.joined(separator: ", ")
                fields.fail("events", "unknown event type(s) \(shown); known: \(WebhookEventType.names)")
            } else {
                var seen = Set<WebhookEventType>()
                events = names.compactMap { $0.flatMap(WebhookEventType.init(rawValue:)) }.filter { seen.insert($0).inserted }
            }
        }
        fields.refuseUnknown(allowed: ["url", "events", "description"])
        try fields.check()
        let vetted = try await WebhookURLPolicy(allowPrivateNetworks: services.configuration.allowPrivateWebhooks).vet(url!)
        let now = services.clock.nowMillis()
        let key = WebhookSignature.newSecretKey()
        let endpoint = WebhookEndpoint(
            id: Identifiers.prefixed("we_", now: now), url: vetted, events: events, description: description,
            secretKey: key, createdAt: now, updatedAt: now)
        let limit = services.configuration.webhooks.maxEndpoints
        guard try await services.webhookAdmin.createEndpoint(endpoint, maxEndpoints: limit) else {
            throw Problem(status: 409, code: .webhookEndpointLimit, detail: "At most \(limit) webhook endpoints may exist; delete one first.")
        }
        var document = endpoint.document(now: now)
        document["secret"] = .string(WebhookSignature.display(key))
        var response = HTTPResponse.json(.object(document), status: .created)
        response.headers["Location"] = "/v1/webhook-endpoints/\(endpoint.id)"
        return response
    }

    private func rotate(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let now = services.clock.nowMillis()
        let key = WebhookSignature.newSecretKey()
        let expires = now + services.configuration.webhooks.secretGracePeriod.milliseconds
        guard let endpoint = try await services.webhookAdmin.rotateSecret(id, newKey: key, previousExpiresAt: expires, now: now) else {
            throw Self.noEndpoint(id)
        }
        var document = endpoint.document(now: now)
        document["secret"] = .string(WebhookSignature.display(key))
        return HTTPResponse.json(.object(document))
    }

    private func redeliver(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let now = services.clock.nowMillis()
        switch try await services.webhookAdmin.redeliver(id, now: now) {
        case .noDelivery:
            throw Problem.notFound("No webhook delivery \(id).")
        case .endpointDisabled:
            throw Problem(
                status: 409, code: .webhookEndpointDisabled,
                detail: "The endpoint of delivery \(id) is disabled; deliveries to it are not attempted.")
        case .created(let delivery):
            return HTTPResponse.json(delivery.document, status: .accepted)
        }
    }

    static func noEndpoint(_ id: String) -> Problem { Problem.notFound("No webhook endpoint \(id).") }
}

/// The answers of endpoint creation and rotate-secret show the signing secret. Their stored copy
/// for `Idempotency-Key` replays holds no secret, only the endpoint id and a SHA-256 of the secret
/// as shown; a replay re-reads the endpoint and shows its secret only if it is still that one.
/// The endpoint deleted, or its secret rotated since: 404 `not_found`, the secret not shown.
struct WebhookSecretAnswer: SecretBearingAnswer {
    let store: any WebhookStore

    func redact(_ response: HTTPResponse) -> (stored: HTTPResponse, reference: String)? {
        guard case .object(var document)? = try? JSONValue.parse(response.bodyBytes),
            case .string(let id)? = document["id"], case .string(let secret)? = document["secret"]
        else { return nil }
        document["secret"] = nil
        var stored = response
        stored.body = .bytes(JSON.encode(JSONValue.object(document)))
        return (stored, "\(id) \(Digest.sha256Hex(secret))")
    }

    func restore(_ stored: HTTPResponse, reference: String) async throws -> HTTPResponse {
        let parts = reference.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, case .object(var document)? = try? JSONValue.parse(stored.bodyBytes) else {
            throw InboundIdempotency.secretUnavailable("its secret cannot be shown again")
        }
        let id = parts[0]
        guard let endpoint = try await store.endpoint(id) else {
            throw InboundIdempotency.secretUnavailable("webhook endpoint \(id) has been deleted since")
        }
        let secret = WebhookSignature.display(endpoint.secretKey)
        guard Digest.sha256Hex(secret) == parts[1] else {
            throw InboundIdempotency.secretUnavailable("the secret of webhook endpoint \(id) has been rotated since")
        }
        document["secret"] = .string(secret)
        var response = stored
        response.body = .bytes(JSON.encode(JSONValue.object(document)))
        return response
    }
}

/// Which webhook URLs are acceptable: absolute http(s) without credentials; `https` and a host
/// that resolves only to global addresses, unless private networks are allowed (tests, dev).
struct WebhookURLPolicy: Sendable {
    let allowPrivateNetworks: Bool

    func vet(_ raw: String) async throws(Problem) -> String {
        guard let url = ClientURL(raw) else {
            throw Problem.validation(field: "url", "must be an absolute http(s) URL without credentials")
        }
        guard allowPrivateNetworks else {
            guard url.isTLS else { throw Problem.validation(field: "url", "must use https") }
            let addresses: [[UInt8]]
            do { addresses = try await AddressResolver.ipAddresses(of: url.host) } catch {
                throw Problem(status: 400, code: .webhookURLUnresolvable, detail: "The host \(url.host) of the URL cannot be resolved: \(error.detail)")
            }
            for address in addresses {
                if let reason = NetworkAddressClass.classify(address).refusal {
                    throw Problem(
                        status: 400, code: .webhookURLForbidden,
                        detail: "The host \(url.host) resolves to \(NetworkAddressClass.describe(address)), \(reason): webhooks go only to public addresses.")
                }
            }
            return raw
        }
        return raw
    }
}
