import HTTP
import Rokt

/// `/v1/merchants/{accountId}/status`, `…/pause`, `…/resume`.
struct StatusRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/merchants/{accountId}/status") { request in
            let merchant = try PathParameter.accountId(request)
            _ = try Authorization.authorize(request, scope: .read, merchant: merchant, keyRing: services.keyRing)
            let cascade = try await services.rokt.getStatus(merchant).result.mapError(Problem.upstream).get()
            return .json(StatusDocument(cascade).json)
        }
        router.post("/v1/merchants/{accountId}/pause") { request in try await change(request, to: .paused) }
        router.post("/v1/merchants/{accountId}/resume") { request in try await change(request, to: .active) }
    }

    private func change(_ request: HTTPRequest, to status: PlacementStatus) async throws -> HTTPResponse {
        let merchant = try PathParameter.accountId(request)
        let caller = try Authorization.authorize(request, scope: .write, merchant: merchant, keyRing: services.keyRing)
        // A reason may come along; anything else in the body is refused rather than ignored.
        var fields = RequestBody.Fields(try RequestBody.optionalObject(request))
        _ = fields.string("reason", required: false, maxLength: 500)
        fields.refuseUnknown(allowed: ["reason"])
        try fields.check()
        return try await InboundIdempotency(services: services).run(request, caller: caller) { binding in
            if DryRun.isRequested(request) {
                return try await DryRun(services: services).status(merchant: merchant, desired: status)
            }
            let operation = try await services.engine.submit(.status(status), merchantId: merchant,
                                                             request: .object(["status": .string(status.rawValue)]), apiKeyId: caller.key.id,
                                                             inboundKey: binding)
            return try await WriteResponder(services: services).respond(to: operation, request: request)
        }
    }
}
