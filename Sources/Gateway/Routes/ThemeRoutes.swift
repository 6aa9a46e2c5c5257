import HTTP
import JSON
import Rokt

/// `PATCH /v1/merchants/{accountId}/layouts/{layoutId}/theme`: a sparse update of the five
/// theme tokens → Rokt's PATCH of the layout (its one PATCH surface).
enum ThemeRoutes {
    static let colorTokens = ["primaryColor", "backgroundColor", "textColor", "closeButtonColor"]
    static let tokens = colorTokens + ["borderRadius"]
    /// Pixels. Rokt renders a rounded card; beyond 64 px the corners eat the content.
    static let maxBorderRadius = 64.0

    /// Only the tokens sent are changed; at least one is required, nothing else is accepted.
    static func patch(_ request: HTTPRequest, merchant: String) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        let layoutId = try PathParameter.layoutId(request)
        let object = try RequestBody.object(request)
        var fields = RequestBody.Fields(object)
        fields.refuseUnknown(allowed: Set(tokens))
        if object.isEmpty { fields.fail("body", "set at least one of \(tokens.joined(separator: ", "))") }
        var theme: [String: JSONValue] = [:]
        for token in colorTokens {
            if let color = fields.color(token) { theme[token] = .string(color) }
        }
        if object["borderRadius"] == JSONValue.null { fields.fail("borderRadius", "cannot be null: leave the token out to keep it") }
        if let radius = fields.number("borderRadius", required: false, range: 0...maxBorderRadius) { theme["borderRadius"] = .number(radius) }
        try fields.check()
        let write = SingleWrite(
            kind: .theme, lane: "theme:" + layoutId, method: "PATCH", path: RoktPath.layout(merchant, layoutId),
            body: .object(theme))
        var json = theme
        json["layoutId"] = .string(layoutId)
        return (write, .object(json))
    }
}
