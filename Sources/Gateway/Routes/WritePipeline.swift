import HTTP

/// Runs every write endpoint the same way, in the order openapi/gateway.yaml states:
/// the key (scope, merchant) → the path parameters → `dry_run` and the body → the
/// Idempotency-Key claim → the dry run or the submitted operation → the answer (`WriteResponder`).
///
/// Everything that can make a request invalid is checked before its key is claimed, so a 400
/// stores nothing: the caller fixes the request and retries under the same key.
struct WritePipeline: Sendable {
    let services: GatewayServices

    func register(_ endpoints: [WriteEndpoint], on router: inout Router) {
        for endpoint in endpoints {
            router.add(endpoint.method, endpoint.path) { request in try await run(endpoint, request) }
        }
    }

    func run(_ endpoint: WriteEndpoint, _ request: HTTPRequest) async throws -> HTTPResponse {
        let admitted = try Self.admit(request, to: endpoint, caller: try Authorization.caller())
        let merchant = admitted.merchant
        return try await InboundIdempotency(services: services).run(request, caller: admitted.caller) { binding in
            if admitted.dryRun { return try await preview(admitted.validated.intent, endpoint: endpoint, merchant: merchant ?? "") }
            return try await submit(
                admitted.validated, endpoint: endpoint, merchant: merchant, request: request, caller: admitted.caller,
                binding: binding)
        }
    }

    /// A request that passed every check made before its key is claimed.
    struct Admitted: Sendable {
        let caller: Caller
        /// The validated `accountId`; nil for an endpoint without one.
        let merchant: String?
        let dryRun: Bool
        let validated: ValidatedWrite
    }

    /// The checks before the key claim, in their order, for a `caller` already allowed the
    /// endpoint's scope on the path's merchant (`Authorization`). Synchronous and from memory:
    /// nothing is stored or sent for a request they refuse.
    static func admit(_ request: HTTPRequest, to endpoint: WriteEndpoint, caller: Caller) throws(Problem) -> Admitted {
        if case .unrestrictedKeyOnly(let refusal) = endpoint.merchant, caller.merchants != nil {
            throw Problem.forbidden(refusal)
        }
        let merchant = endpoint.merchant == .path ? try PathParameter.accountId(request) : nil
        let dryRun = DryRun.isRequested(request)
        if dryRun, endpoint.dryRun == .refused { throw DryRun.refused }
        let validated = try endpoint.validate(request, merchant ?? "")
        return Admitted(caller: caller, merchant: merchant, dryRun: dryRun, validated: validated)
    }

    private func preview(_ intent: WriteIntent, endpoint: WriteEndpoint, merchant: String) async throws -> HTTPResponse {
        let dryRun = DryRun(services: services)
        switch (endpoint.dryRun, intent) {
        case (.preview, .controls(let change)): return try await dryRun.controls(merchant: merchant, change: change)
        case (.preview, .status(let status)): return try await dryRun.status(merchant: merchant, desired: status)
        case (.forwarded, .single(let write)): return try await dryRun.forwarded(write)
        // `.refused` was answered before the body was read; the table pairs no other kind.
        default: throw DryRun.refused
        }
    }

    private func submit(
        _ validated: ValidatedWrite, endpoint: WriteEndpoint, merchant: String?, request: HTTPRequest,
        caller: Caller, binding: InboundIdempotency.Binding?
    ) async throws -> HTTPResponse {
        var registration: MerchantRegistration?
        if case .register(let registering) = validated.intent {
            registration = MerchantRegistration(externalAccountId: registering.externalAccountId, name: registering.name)
        }
        switch try await services.engine.submit(
            validated.intent.operationIntent, merchantId: merchant ?? "", request: validated.request,
            apiKeyId: caller.id, inboundKey: binding, registration: registration)
        {
        case .accepted(let operation):
            endpoint.accepted?(operation, services.logger)
            return try await WriteResponder(services: services).respond(to: operation, request: request, createdStatus: endpoint.createdOnSuccess)
        case .alreadyRegistering(let current):
            // Someone else's register of this id: the merchant exists (or will), so never 201 here.
            return try await WriteResponder(services: services).respond(to: current, request: request)
        }
    }
}
