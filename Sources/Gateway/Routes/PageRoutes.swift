import HTTP
import JSON
import Rokt

/// `POST /v1/merchants/{accountId}/pages`: another surface for an onboarded merchant.
enum PageRoutes {
    static let types = ["confirmation", "tracking", "returns"]

    /// `{type: confirmation|tracking|returns, name?}`.
    static func page(_ request: HTTPRequest, merchant: String) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let type = fields.choice("type", types)
        let name = fields.string("name", required: false, maxLength: 200)
        if let name, name.allSatisfy(\.isWhitespace) { fields.fail("name", "must not be blank") }
        fields.refuseUnknown(allowed: ["type", "name"])
        let validType = try fields.valid(type)
        var body: [String: JSONValue] = ["type": .string(validType)]
        if let name { body["name"] = .string(name) }
        return (SingleWrite(kind: .page, lane: "pages", method: "POST", path: RoktPath.pages(merchant), body: .object(body)), .object(body))
    }
}
