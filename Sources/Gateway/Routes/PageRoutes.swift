import HTTP
import JSON
import Rokt

/// `POST /v1/merchants/{accountId}/pages`: another surface for an onboarded merchant.
struct PageRoutes: Sendable {
    static let types = ["confirmation", "tracking", "returns"]

    let services: GatewayServices

    func register(on router: inout Router) {
        router.post("/v1/merchants/{accountId}/pages") { request in
            let merchant = try PathParameter.accountId(request)
            return try await SingleWriteRoute(services: services).handle(request, merchant: merchant, dryRun: .forwarded) { request throws(Problem) in
                try Self.page(request, merchant: merchant)
            }
        }
    }

    /// `{type: confirmation|tracking|returns, name?}`.
    static func page(_ request: HTTPRequest, merchant: String) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let type = fields.choice("type", types)
        let name = fields.string("name", required: false, maxLength: 200)
        if let name, name.allSatisfy(\.isWhitespace) { fields.fail("name", "must not be blank") }
        fields.refuseUnknown(allowed: ["type", "name"])
        try fields.check()
        var body: [String: JSONValue] = ["type": .string(type!)]
        if let name { body["name"] = .string(name) }
        return (SingleWrite(kind: .page, lane: "pages", method: "POST", path: RoktPath.pages(merchant), body: .object(body)), .object(body))
    }
}
