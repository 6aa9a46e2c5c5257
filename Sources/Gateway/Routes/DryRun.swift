import HTTP
import JSON
import Rokt

/// `?dry_run=true`: the change is computed on the current state (a single write is taken as is)
/// and validated by Rokt with its own `dry_run=true` under a fresh key that is never reused (Rokt
/// caches dry-runs under their key, so reusing it would swallow the real write). Nothing is
/// recorded but the caller's Idempotency-Key answer.
struct DryRun: Sendable {
    let services: GatewayServices

    static func isRequested(_ request: HTTPRequest) -> Bool {
        ["true", "1"].contains(request.query["dry_run"]?.lowercased() ?? "")
    }

    /// The answer of an endpoint Rokt cannot dry-run (`WriteEndpoint.DryRunSupport.refused`).
    static let refused = Problem(
        status: 400, code: .dryRunNotSupported,
        detail: "Rokt cannot dry-run this write (it has external side effects); send it without dry_run.")

    func controls(merchant: String, change: ControlsChange) async throws -> HTTPResponse {
        let before = try await services.rokt.getControls(merchant).result.mapError(Problem.upstream).get()
        let (outcomes, after) = ControlsMerge.apply([change], to: before)
        if case .conflict(let expected, let actual, let viaIfMatch) = outcomes.first {
            throw Problem(
                status: viaIfMatch ? 412 : 409, code: .staleContentHash,
                detail: "The controls changed since contentHash \(expected) was read (now \(actual ?? "different")); read them again.")
        }
        var body = after
        body.contentHash = before.contentHash
        let validated = await services.rokt.putControls(merchant, body: RoktJSON.encode(body), idempotencyKey: Identifiers.idempotencyKey(), dryRun: true)
        let response = try validated.result.mapError(Problem.upstream).get()
        let wouldBe = (try? response.decode(MarketplaceControls.self)) ?? after
        let difference = ControlsMerge.difference(from: before, to: after)
        func vertical(_ pair: VerticalPair) -> JSONValue {
            .object(["type": .string("vertical"), "partnerVerticalId": .number(Double(pair.vertical)), "partnerSubVerticalId": .number(Double(pair.subVertical))])
        }
        func domain(_ name: String) -> JSONValue { .object(["type": .string("domain"), "domain": .string(name)]) }
        return preview(
            before: ControlsDocument(before).json, after: ControlsDocument(wouldBe).json,
            added: difference.addedVerticals.map(vertical) + difference.addedDomains.map(domain),
            removed: difference.removedVerticals.map(vertical) + difference.removedDomains.map(domain))
    }

    func status(merchant: String, desired: PlacementStatus) async throws -> HTTPResponse {
        let before = try await services.rokt.getStatus(merchant).result.mapError(Problem.upstream).get()
        let validated = await services.rokt.putStatus(
            merchant, body: RoktJSON.encode(StatusChange(status: desired)),
            idempotencyKey: Identifiers.idempotencyKey(), dryRun: true)
        let response = try validated.result.mapError(Problem.upstream).get()
        let after =
            (try? response.decode(StatusCascade.self))
            ?? StatusCascade(
                accountId: merchant, status: desired == .paused ? .paused : .active,
                variants: before.variants.map {
                    var v = $0; v.status = desired.rawValue; return v
                })
        let changed = before.status.rawValue != desired.rawValue
        return preview(
            before: StatusDocument(before).json, after: StatusDocument(after).json,
            added: changed ? [.object(["type": .string("status"), "status": .string(desired.rawValue)])] : [],
            removed: changed ? [.object(["type": .string("status"), "status": .string(before.status.rawValue)])] : [])
    }

    /// A single write: Rokt's would-be answer, `{dryRun: true, after}`.
    func forwarded(_ write: SingleWrite) async throws -> HTTPResponse {
        let outcome = await services.rokt.dryRunWrite(
            HTTPMethod(write.method), write.path, body: write.encodedBody,
            idempotencyKey: Identifiers.idempotencyKey())
        let response = try outcome.result.mapError(Problem.upstream).get()
        let after = (try? response.decode(JSONValue.self)) ?? .null
        return .json(.object(["dryRun": .bool(true), "after": after]))
    }

    private func preview(before: JSONValue, after: JSONValue, added: [JSONValue], removed: [JSONValue]) -> HTTPResponse {
        let document: JSONValue = .object([
            "dryRun": .bool(true), "before": before, "after": after,
            "changes": .object(["added": .array(added), "removed": .array(removed)]),
        ])
        return .json(document)
    }
}
