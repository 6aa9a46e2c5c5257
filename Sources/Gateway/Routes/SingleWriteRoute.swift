import HTTP
import Rokt

/// The shared path of the single-write endpoints (theme, pages, payout setup, data deletion,
/// privacy): authorise → inbound Idempotency-Key → validate → dry-run or submit → answer as
/// openapi/gateway.yaml's common rules say (200/202/problem via `WriteResponder`).
struct SingleWriteRoute: Sendable {
    /// What `?dry_run=true` does on an endpoint.
    enum DryRunPolicy: Sendable {
        /// Rokt validates it with its own `dry_run=true` under a fresh, never reused key.
        case forwarded
        /// Rokt cannot dry-run it (it has external side effects): 400.
        case refused
    }

    let services: GatewayServices

    /// `merchant` nil: a network-wide write, which only a key without a merchant list may make.
    func handle(_ request: HTTPRequest, merchant: String?, dryRun: DryRunPolicy,
                parse: @Sendable (HTTPRequest) throws(Problem) -> (write: SingleWrite, request: JSONValue),
                accepted: (@Sendable (Operation) -> Void)? = nil) async throws -> HTTPResponse {
        let caller = try Authorization.authorize(request, scope: .write, merchant: merchant, keyRing: services.keyRing)
        if merchant == nil, caller.key.merchants != nil {
            throw Problem.forbidden("This API key is limited to some merchants; network-wide requests need a key without a merchant list.")
        }
        return try await InboundIdempotency(services: services).run(request, caller: caller) { binding in
            if DryRun.isRequested(request), dryRun == .refused { throw Self.dryRunRefused }
            let (write, json) = try parse(request)
            if DryRun.isRequested(request) { return try await Self.dryRun(write, rokt: services.rokt) }
            let operation = try await services.engine.submit(.single(write), merchantId: merchant ?? "", request: json, apiKeyId: caller.key.id,
                                                             inboundKey: binding)
            accepted?(operation)
            return try await WriteResponder(services: services).respond(to: operation, request: request)
        }
    }

    static let dryRunRefused = Problem(status: 400, code: "dry_run_not_supported",
                                       detail: "Rokt cannot dry-run this write (it has external side effects); send it without dry_run.")

    /// Rokt's would-be answer, `{dryRun: true, after}`; nothing is recorded.
    static func dryRun(_ write: SingleWrite, rokt: RoktClient) async throws -> HTTPResponse {
        let outcome = await rokt.dryRunWrite(HTTPMethod(write.method), write.path, body: write.encodedBody, idempotencyKey: Identifiers.idempotencyKey())
        let response = try outcome.result.mapError(Problem.upstream).get()
        let after = (try? response.decode(JSONValue.self)) ?? .null
        return .json(.object(["dryRun": .bool(true), "after": after]))
    }
}
