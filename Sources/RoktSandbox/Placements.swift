import HTTP
import JSON

/// An Ecommerce API error: `{description, errors: [{code, message, value}]}` as in
/// ecommerce-placements-any.txt (`value` is the offending value, or null).
struct PlacementsError: Error, Sendable {
    struct Item: Sendable, Encodable {
        var code: String
        var message: String
        var value: JSONValue
    }

    var status: Int
    var description: String
    var errors: [Item]

    init(_ status: Int, _ description: String, code: String, message: String, value: JSONValue = .null) {
        self.status = status
        self.description = description
        errors = [Item(code: code, message: message, value: value)]
    }

    static func injected(status: Int) -> PlacementsError {
        PlacementsError(
            status, HTTPStatus.standardReasonPhrase(status), code: "InjectedFault",
            message: "Fault injected by the sandbox (HTTP \(status))")
    }

    private struct Body: Encodable {
        var description: String
        var errors: [Item]
    }

    func reply(requestId: String, headers: HTTPHeaders = HTTPHeaders()) -> SandboxReply {
        .bare(status, Body(description: description, errors: errors), requestId: requestId, headers: headers)
    }
}

extension SandboxState {
    /// `POST /v1/Placements/any`: 401 without the right `rokt-api-key`, 400 without a
    /// `rokt-tag-id` or with a body that is not a JSON object, 403 with another tag id, 422
    /// when the object breaks the schema; else `{"result": …}` from the per-pageIdentifier
    /// table (the default for pages not in it).
    func placements(_ call: SandboxCall, requestId: String) -> SandboxReply {
        do throws(PlacementsError) {
            let result = try placementsResult(call)
            return .bare(200, ["result": result], requestId: requestId)
        } catch {
            return error.reply(requestId: requestId)
        }
    }

    private func placementsResult(_ call: SandboxCall) throws(PlacementsError) -> Bool {
        guard let key = call.headers["rokt-api-key"], !key.isEmpty else {
            throw PlacementsError(401, "Unauthorized", code: "MissingApiKey", message: "The rokt-api-key header is required")
        }
        guard key == settings.ecommerceApiKey else {
            throw PlacementsError(401, "Unauthorized", code: "InvalidApiKey", message: "The rokt-api-key is not valid")
        }
        guard let tag = call.headers["rokt-tag-id"], !tag.isEmpty else {
            throw PlacementsError(400, "BadRequest", code: "MissingTagId", message: "The rokt-tag-id header is required")
        }
        guard tag == settings.tagId else {
            throw PlacementsError(403, "Forbidden", code: "TagIdNotAllowed", message: "This api key may not use tag \(tag)", value: .string(tag))
        }
        if let type = call.headers["Content-Type"], !type.lowercased().hasPrefix("application/json") {
            throw PlacementsError(
                400, "BadRequest", code: "UnsupportedContentType",
                message: "Content-Type must be application/json", value: .string(type))
        }
        let parsed: JSONValue?
        do throws(SandboxError) {
            parsed = try JSONValue.parseBody(call.body)
        } catch {
            throw PlacementsError(400, "BadRequest", code: "InvalidRequestBody", message: error.message)
        }
        guard let body = parsed else {
            throw PlacementsError(400, "BadRequest", code: "InvalidRequestBody", message: "The request body is required")
        }
        guard case .object(let members) = body else {
            throw PlacementsError(400, "BadRequest", code: "InvalidRequestBody", message: "The request body must be a JSON object")
        }
        func invalid(_ field: String, _ message: String, _ value: JSONValue?) -> PlacementsError {
            PlacementsError(422, "UnprocessableEntity", code: "InvalidField", message: "\(field) \(message)", value: value ?? .null)
        }
        if let unknown = members.keys.filter({ !["cartId", "pageIdentifier", "url", "attributes"].contains($0) }).sorted().first {
            throw invalid(unknown, "is not a recognised field (allowed: cartId, pageIdentifier, url, attributes)", members[unknown])
        }
        guard case .string(let page)? = members["pageIdentifier"], !page.isEmpty else {
            throw invalid("pageIdentifier", "is required and must be a non-empty string", members["pageIdentifier"])
        }
        for field in ["cartId", "url"] {
            guard let value = members[field], value != .null else { continue }
            guard case .string = value else { throw invalid(field, "must be a string", value) }
        }
        if let attributes = members["attributes"], attributes != .null {
            guard case .object(let pairs) = attributes else { throw invalid("attributes", "must be an object of strings", attributes) }
            if let (name, value) = pairs.sorted(by: { $0.key < $1.key }).first(where: { if case .string = $0.value { false } else { true } }) {
                throw invalid("attributes.\(name)", "must be a string", value)
            }
        }
        return settings.placementResults[page] ?? settings.defaultPlacementResult
    }
}
