import HTTP
import JSON

/// `/v1/operations/{id}` and `/v1/operations?merchantId=&state=&limit=&after=`.
struct OperationRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/operations/{id}") { request in
            let caller = try Authorization.caller()
            let id = request.pathParameters["id"] ?? ""
            // An operation of a merchant the caller may not see does not exist for it.
            guard let operation = try await services.engine.operation(id), caller.allows(merchant: operation.merchantId) else {
                throw Problem.notFound("No operation \(id).")
            }
            RequestNotes.noteOperation(operation.id)
            return HTTPResponse(headers: ["Content-Type": "application/json"], body: operation.encoded)
        }
        router.get("/v1/operations") { request in
            let caller = try Authorization.caller()
            let query = request.query
            var errors: [Problem.FieldError] = []
            var limit = 50
            if let raw = query["limit"] {
                if let value = Int(raw), (1...200).contains(value) { limit = value } else { errors.append(.init(field: "limit", message: "must be between 1 and 200")) }
            }
            var state: OperationState?
            if let raw = query["state"] {
                if let value = OperationState(rawValue: raw) {
                    state = value
                } else {
                    errors.append(.init(field: "state", message: "must be queued, running, succeeded or failed"))
                }
            }
            let merchantId = query["merchantId"]
            if let merchantId, !caller.allows(merchant: merchantId) {
                throw Problem.forbidden("\(caller.noun) may not act on merchant \(merchantId).")
            }
            if !errors.isEmpty { throw Problem.validation(errors) }
            let page = try await services.engine.list(
                merchantIds: caller.merchants, merchantId: merchantId, state: state,
                limit: limit + 1, after: query["after"])
            let items = Array(page.prefix(limit))
            let document: JSONValue = .object([
                "data": .array(items.map(\.jsonValue)),
                "nextCursor": page.count > limit ? .string(items.last!.id) : .null,
            ])
            return .json(document)
        }
    }
}
