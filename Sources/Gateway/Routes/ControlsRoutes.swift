import HTTP
import Rokt

/// `/v1/merchants/{accountId}/controls…`: read, replace, add/remove blocks, batch changes; `?dry_run=true` previews.
struct ControlsRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/merchants/{accountId}/controls") { request in try await read(request) }
        router.put("/v1/merchants/{accountId}/controls") { request in
            try await write(request) { request throws(Problem) in try Self.replacement(request) }
        }
        router.patch("/v1/merchants/{accountId}/controls") { request in
            try await write(request) { request throws(Problem) in try Self.batch(request) }
        }
        router.post("/v1/merchants/{accountId}/controls/blocked-verticals") { request in
            try await write(request) { request throws(Problem) in
                var fields = RequestBody.Fields(try RequestBody.object(request))
                let vertical = fields.integer("partnerVerticalId"), sub = fields.integer("partnerSubVerticalId")
                fields.refuseUnknown(allowed: ["partnerVerticalId", "partnerSubVerticalId", "policy"])
                try fields.check()
                return (.addVertical(VerticalPair(vertical!, sub!)), .object(["partnerVerticalId": .number(Double(vertical!)), "partnerSubVerticalId": .number(Double(sub!))]))
            }
        }
        router.delete("/v1/merchants/{accountId}/controls/blocked-verticals/{partnerVerticalId}") { request in
            try await write(request) { request throws(Problem) in
                guard let vertical = Int(request.pathParameters["partnerVerticalId"] ?? ""), vertical > 0 else {
                    throw Problem.validation(field: "partnerVerticalId", "must be a positive integer")
                }
                var sub: Int?
                if let raw = request.query["partnerSubVerticalId"] {
                    guard let value = Int(raw), value > 0 else { throw Problem.validation(field: "partnerSubVerticalId", "must be a positive integer") }
                    sub = value
                }
                var json: [String: JSONValue] = ["partnerVerticalId": .number(Double(vertical))]
                if let sub { json["partnerSubVerticalId"] = .number(Double(sub)) }
                return (.removeVertical(vertical: vertical, subVertical: sub), .object(json))
            }
        }
        router.post("/v1/merchants/{accountId}/controls/blocked-domains") { request in
            try await write(request) { request throws(Problem) in
                var fields = RequestBody.Fields(try RequestBody.object(request))
                let raw = fields.string("domain", maxLength: 253)
                let domain = raw.flatMap { fields.domain($0, field: "domain") }
                fields.refuseUnknown(allowed: ["domain"])
                try fields.check()
                return (.addDomain(domain!), .object(["domain": .string(domain!)]))
            }
        }
        router.delete("/v1/merchants/{accountId}/controls/blocked-domains/{domain}") { request in
            try await write(request) { request throws(Problem) in
                var fields = RequestBody.Fields([:])
                let domain = fields.domain(request.pathParameters["domain"] ?? "", field: "domain")
                try fields.check()
                return (.removeDomain(domain!), .object(["domain": .string(domain!)]))
            }
        }
    }

    // MARK: Handlers

    private func read(_ request: HTTPRequest) async throws -> HTTPResponse {
        let merchant = try PathParameter.accountId(request)
        _ = try Authorization.authorize(request, scope: .read, merchant: merchant, keyRing: services.keyRing)
        let outcome = await services.rokt.getControls(merchant)
        let controls = try outcome.result.mapError(Problem.upstream).get()
        var headers = HTTPHeaders()
        if let hash = controls.contentHash { headers["ETag"] = "\"\(hash)\"" }
        return .json(ControlsDocument(controls).json, headers: headers)
    }

    private func write(_ request: HTTPRequest, parse: @Sendable (HTTPRequest) throws(Problem) -> (ControlsChange, JSONValue)) async throws -> HTTPResponse {
        let merchant = try PathParameter.accountId(request)
        let caller = try Authorization.authorize(request, scope: .write, merchant: merchant, keyRing: services.keyRing)
        return try await InboundIdempotency(services: services).run(request, caller: caller) { binding in
            let (change, json) = try parse(request)
            if DryRun.isRequested(request) {
                return try await DryRun(services: services).controls(merchant: merchant, change: change)
            }
            let operation = try await services.engine.submit(.controls(change), merchantId: merchant, request: json, apiKeyId: caller.key.id,
                                                             inboundKey: binding)
            return try await WriteResponder(services: services).respond(to: operation, request: request)
        }
    }

    // MARK: Bodies

    /// PUT: the whole desired set; the contentHash from the body or `If-Match` guards it.
    static func replacement(_ request: HTTPRequest) throws(Problem) -> (ControlsChange, JSONValue) {
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
        let replacement = ControlsReplacement(name: name, verticals: verticals, domains: domains, expectedHash: expected,
                                              viaIfMatch: ifMatch != nil && ifMatch != "*")
        var json: [String: JSONValue] = [
            "blockedVerticals": .array(verticals.map { .object(["partnerVerticalId": .number(Double($0.vertical)), "partnerSubVerticalId": .number(Double($0.subVertical))]) }),
            "blockedDomains": .array(domains.map(JSONValue.string)),
        ]
        if let name { json["name"] = .string(name) }
        if let expected { json["contentHash"] = .string(expected) }
        return (.replace(replacement), .object(json))
    }

    /// PATCH: `{add: {verticals, domains}, remove: {verticals, domains}}`.
    static func batch(_ request: HTTPRequest) throws(Problem) -> (ControlsChange, JSONValue) {
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
                guard let (vertical, sub) = RequestBody.verticalPair(item, field: "verticals[\(index)]", fields: &sectionFields, subRequired: section == "add") else { continue }
                if section == "add" { batch.addVerticals.append(VerticalPair(vertical, sub!)) } else { batch.removeVerticals.append(VerticalRemoval(vertical: vertical, subVertical: sub)) }
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
        func verticalsJSON(_ pairs: [(Int, Int?)]) -> JSONValue {
            .array(pairs.map { pair in
                var item: [String: JSONValue] = ["partnerVerticalId": .number(Double(pair.0))]
                if let sub = pair.1 { item["partnerSubVerticalId"] = .number(Double(sub)) }
                return .object(item)
            })
        }
        let json: JSONValue = .object([
            "add": .object(["verticals": verticalsJSON(batch.addVerticals.map { ($0.vertical, $0.subVertical) }), "domains": .array(batch.addDomains.map(JSONValue.string))]),
            "remove": .object(["verticals": verticalsJSON(batch.removeVerticals.map { ($0.vertical, $0.subVertical) }), "domains": .array(batch.removeDomains.map(JSONValue.string))]),
        ])
        return (.batch(batch), json)
    }

    /// `"h_abc"` or `W/"h_abc"` → `h_abc` (RFC 9110 §8.8.3).
    static func entityTag(_ raw: String) -> String {
        var tag = raw.trimmingHTTPWhitespace()
        if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
        if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
        return tag
    }
}
