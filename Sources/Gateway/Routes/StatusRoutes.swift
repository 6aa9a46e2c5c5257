import HTTP
import JSON
import Rokt

/// `/v1/merchants/{accountId}/status`; `…/pause` and `…/resume` are rows of `WriteEndpoint.all`
/// whose bodies are read by `change`.
struct StatusRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/merchants/{accountId}/status") { request in
            let merchant = try PathParameter.accountId(request)
            let cascade = try await services.rokt.getStatus(merchant).result.mapError(Problem.upstream).get()
            return .json(StatusDocument(cascade).json)
        }
    }

    /// Pause or resume: a reason may come along (it is not kept); anything else in the body is
    /// refused rather than ignored.
    static func change(_ request: HTTPRequest, to status: PlacementStatus) throws(Problem) -> ValidatedWrite {
        var fields = RequestBody.Fields(try RequestBody.optionalObject(request))
        _ = fields.string("reason", required: false, maxLength: 500)
        fields.refuseUnknown(allowed: ["reason"])
        try fields.check()
        return ValidatedWrite(intent: .status(status), request: .object(["status": .string(status.rawValue)]))
    }
}
