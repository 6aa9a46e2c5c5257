import HTTP
import JSON
import Rokt

/// `/v1/merchants/{accountId}/controls…`: the read here; the writes (replace, batch, add/remove
/// one block) are rows of `WriteEndpoint.all` whose bodies are read below.
struct ControlsRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/merchants/{accountId}/controls") { request in try await read(request) }
    }

    private func read(_ request: HTTPRequest) async throws -> HTTPResponse {
        let merchant = try PathParameter.accountId(request)
        let outcome = await services.rokt.getControls(merchant)
        let controls = try outcome.result.mapError(Problem.upstream).get()
        var headers = HTTPHeaders()
        if let hash = controls.contentHash { headers["ETag"] = "\"\(hash)\"" }
        return .json(ControlsDocument(controls).json, headers: headers)
    }

    // MARK: Bodies

    /// PUT: the whole desired set; the contentHash from the body or `If-Match` guards it.
    static func replacement(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let name = fields.string("name", required: false, maxLength: 200)
        var verticals: [VerticalPair] = []
        for (index, item) in (fields.array("blockedVerticals", required: true) ?? []).enumerated() {
            if let (vertical, sub) = RequestBody.verticalPair(item, field: "blockedVerticals[\(index)]", fields: &fields), let sub {
                verticals.append(VerticalPair(vertical, sub))
            }
        }
        var domains: [String] = []
        for (index, item) in (fields.array("blockedDomains", required: true) ?? []).enumerated() {
            guard case .string(let raw) = item else { fields.fail("blockedDomains[\(index)]", "must be a string"); continue }
            if let domain = fields.domain(raw, field: "blockedDomains[\(index)]") { domains.append(domain) }
        }
        let bodyHash = fields.string("contentHash", required: false, maxLength: 200)
        fields.refuseUnknown(allowed: ["name", "blockedVerticals", "blockedDomains", "contentHash"])
        try fields.check()
        let ifMatch = request.headers["If-Match"].map(Self.entityTag)
        if let ifMatch, let bodyHash, ifMatch != bodyHash, ifMatch != "*" {
            throw Problem.validation(field: "contentHash", "differs from If-Match; send one or make them agree")
        }
        let expected = ifMatch == "*" ? bodyHash : (ifMatch ?? bodyHash)
        let replacement = ControlsReplacement(
            name: name, verticals: verticals, domains: domains, expectedHash: expected,
            viaIfMatch: ifMatch != nil && ifMatch != "*")
        var json: [String: JSONValue] = [
            "blockedVerticals": .array(verticals.map { verticalJSON($0.vertical, $0.subVertical) }),
            "blockedDomains": .array(domains.map(JSONValue.string)),
        ]
        if let name { json["name"] = .string(name) }
        if let expected { json["contentHash"] = .string(expected) }
        return ValidatedWrite(intent: .controls(.replace(replacement)), request: .object(json))
    }

    /// PATCH: `{add: {verticals, domains}, remove: {verticals, domains}}`.
    static func batch(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        let object = try RequestBody.object(request)
        var fields = RequestBody.Fields(object)
        fields.refuseUnknown(allowed: ["add", "remove"])
        var batch = ControlsBatch()
        for section in ["add", "remove"] {
            guard let value = object[section], value != .null else { continue }
            guard case .object(let inner) = value else { fields.fail(section, "must be an object {verticals, domains}"); continue }
            var sectionFields = RequestBody.Fields(inner, prefix: section + ".")
            sectionFields.refuseUnknown(allowed: ["verticals", "domains"])
            for (index, item) in (sectionFields.array("verticals") ?? []).enumerated() {
                let adding = section == "add"
                guard let (vertical, sub) = RequestBody.verticalPair(item, field: "verticals[\(index)]", fields: &sectionFields, subRequired: adding) else { continue }
                if !adding {
                    batch.removeVerticals.append(VerticalRemoval(vertical: vertical, subVertical: sub))
                } else if let sub {  // always: an added pair's sub-vertical is required
                    batch.addVerticals.append(VerticalPair(vertical, sub))
                }
            }
            for (index, item) in (sectionFields.array("domains") ?? []).enumerated() {
                guard case .string(let raw) = item else { sectionFields.fail("domains[\(index)]", "must be a string"); continue }
                guard let domain = sectionFields.domain(raw, field: "domains[\(index)]") else { continue }
                if section == "add" { batch.addDomains.append(domain) } else { batch.removeDomains.append(domain) }
            }
            fields.errors += sectionFields.errors
        }
        try fields.check()
        if batch.isEmpty { throw Problem.validation(field: "add", "nothing to change: give at least one vertical or domain to add or remove") }
        let json: JSONValue = .object([
            "add": .object([
                "verticals": .array(batch.addVerticals.map { verticalJSON($0.vertical, $0.subVertical) }),
                "domains": .array(batch.addDomains.map(JSONValue.string)),
            ]),
            "remove": .object([
                "verticals": .array(batch.removeVerticals.map { verticalJSON($0.vertical, $0.subVertical) }),
                "domains": .array(batch.removeDomains.map(JSONValue.string)),
            ]),
        ])
        return ValidatedWrite(intent: .controls(.batch(batch)), request: json)
    }

    /// POST blocked-verticals: the body is one pair, read by the rule of a pair in a list
    /// (`RequestBody.verticalPair`: both ids required, `policy` only `Block`).
    static func addVertical(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        let body = try RequestBody.object(request)
        var fields = RequestBody.Fields(body)
        let pair = RequestBody.verticalPair(.object(body), field: "", fields: &fields)
        let (vertical, sub) = try fields.valid(pair)
        let subVertical = try fields.valid(sub)
        return ValidatedWrite(intent: .controls(.addVertical(VerticalPair(vertical, subVertical))), request: verticalJSON(vertical, subVertical))
    }

    /// DELETE blocked-verticals/{partnerVerticalId}: `?partnerSubVerticalId=` one pair, else every sub-vertical.
    static func removeVertical(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        guard let vertical = Int(request.pathParameters["partnerVerticalId"] ?? ""), vertical > 0 else {
            throw Problem.validation(field: "partnerVerticalId", "must be a positive integer")
        }
        var sub: Int?
        if let raw = request.query["partnerSubVerticalId"] {
            guard let value = Int(raw), value > 0 else { throw Problem.validation(field: "partnerSubVerticalId", "must be a positive integer") }
            sub = value
        }
        return ValidatedWrite(intent: .controls(.removeVertical(vertical: vertical, subVertical: sub)), request: verticalJSON(vertical, sub))
    }

    /// POST blocked-domains: `{domain}`.
    static func addDomain(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let raw = fields.string("domain", maxLength: 253)
        let domain = raw.flatMap { fields.domain($0, field: "domain") }
        fields.refuseUnknown(allowed: ["domain"])
        let valid = try fields.valid(domain)
        return ValidatedWrite(intent: .controls(.addDomain(valid)), request: .object(["domain": .string(valid)]))
    }

    /// DELETE blocked-domains/{domain}.
    static func removeDomain(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
        var fields = RequestBody.Fields([:])
        let domain = fields.domain(request.pathParameters["domain"] ?? "", field: "domain")
        let valid = try fields.valid(domain)
        return ValidatedWrite(intent: .controls(.removeDomain(valid)), request: .object(["domain": .string(valid)]))
    }

    /// A pair as the operation's `request` shows it; no sub-vertical means every one.
    static func verticalJSON(_ vertical: Int, _ subVertical: Int?) -> JSONValue {
        var members: [String: JSONValue] = ["partnerVerticalId": .number(Double(vertical))]
        if let subVertical { members["partnerSubVerticalId"] = .number(Double(subVertical)) }
        return .object(members)
    }

    /// `"h_abc"` or `W/"h_abc"` → `h_abc` (RFC 9110 §8.8.3).
    static func entityTag(_ raw: String) -> String {
        var tag = raw.trimmingHTTPWhitespace()
        if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
        if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
        return tag
    }
}
