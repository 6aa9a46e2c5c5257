import HTTP
import Rokt

/// `POST /v1/merchants` (register) and `GET /v1/merchants` (the managed accounts, paginated).
///
/// Register is idempotent on `externalAccountId` end to end: the operation and the
/// `merchants` row binding the id to it are committed in one transaction, so a retried,
/// duplicated or concurrent register joins the operation already registering that id instead
/// of sending another. 201 for a new merchant; 200 with the existing one otherwise.
struct MerchantRoutes: Sendable {
    static let defaultPageSize = 50
    static let maxPageSize = 100

    let services: GatewayServices

    func register(on router: inout Router) {
        router.post("/v1/merchants") { request in try await registerMerchant(request) }
        router.get("/v1/merchants") { request in try await list(request) }
    }

    private func registerMerchant(_ request: HTTPRequest) async throws -> HTTPResponse {
        let caller = try Authorization.authorize(request, scope: .write, merchant: nil, keyRing: services.keyRing)
        // The new account cannot be on a key's merchant list yet: only unrestricted keys register.
        if caller.key.merchants != nil {
            throw Problem.forbidden("This API key is limited to some merchants; registering a merchant needs a key without a merchant list.")
        }
        return try await InboundIdempotency(services: services).run(request, caller: caller) { binding in
            if DryRun.isRequested(request) { throw SingleWriteRoute.dryRunRefused }
            let (registration, json) = try Self.registration(request)
            let external = registration.externalAccountId
            let write = SingleWrite(kind: .register, lane: "register:" + external, method: "POST", path: RoktPath.register,
                                    body: registration.jsonValue)
            switch try await services.engine.submit(.single(write), merchantId: "", request: json, apiKeyId: caller.key.id, inboundKey: binding,
                                                    registration: MerchantRegistration(externalAccountId: external, name: registration.name)) {
            case .accepted(let operation):
                return try await WriteResponder(services: services).respond(to: operation, request: request, createdStatus: true)
            case .alreadyRegistering(let current):
                // Someone else's register of this id: the merchant exists (or will), so never 201 here.
                return try await WriteResponder(services: services).respond(to: current, request: request)
            }
        }
    }

    /// `{externalAccountId, name, website?, country?}`, with Rokt's rules checked here so a bad
    /// body is a 400 naming the field rather than a failed operation.
    static func registration(_ request: HTTPRequest) throws(Problem) -> (RoktRegistration, JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let external = fields.string("externalAccountId", maxLength: 128)
        if let external, external.isEmpty || !external.utf8.allSatisfy(Self.isExternalIdByte) {
            fields.fail("externalAccountId", "must be 1 to 128 characters of letters, digits, '-', '_', '.', ':'")
        }
        let name = fields.string("name", maxLength: 200)
        if let name, name.allSatisfy(\.isWhitespace) { fields.fail("name", "must not be blank") }
        let website = fields.url("website")
        let country = fields.string("country", required: false, maxLength: 2)
        if let country, country.utf8.count != 2 || !country.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) {
            fields.fail("country", "must be an ISO 3166-1 alpha-2 code in capitals, such as \"US\"")
        }
        fields.refuseUnknown(allowed: ["externalAccountId", "name", "website", "country"])
        try fields.check()
        var json: [String: JSONValue] = ["externalAccountId": .string(external!), "name": .string(name!)]
        if let website { json["website"] = .string(website) }
        if let country { json["country"] = .string(country) }
        return (RoktRegistration(externalAccountId: external!, name: name!, website: website, country: country), .object(json))
    }

    private static func isExternalIdByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte | 0x20) || (0x30...0x39).contains(byte) || [0x2D, 0x5F, 0x2E, 0x3A].contains(byte)
    }

    /// `?limit=` 1… (above 100 is clamped to 100; default 50) and `?after=` the `nextCursor` of
    /// the previous page → `{data: [merchant], nextCursor}`. A key with a merchant list sees
    /// only those merchants (its pages may be shorter than `limit`).
    private func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let caller = try Authorization.authorize(request, scope: .read, merchant: nil, keyRing: services.keyRing)
        var errors: [Problem.FieldError] = []
        var limit = Self.defaultPageSize
        if let raw = request.query["limit"] {
            if let value = Int(raw), value >= 1 { limit = min(value, Self.maxPageSize) } else {
                errors.append(.init(field: "limit", message: "must be a positive integer (at most \(Self.maxPageSize) are returned)"))
            }
        }
        let after = request.query["after"]
        if let after, !(1...512).contains(after.utf8.count) || !after.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            errors.append(.init(field: "after", message: "must be the nextCursor of a previous page"))
        }
        if !errors.isEmpty { throw Problem.validation(errors) }
        let page = try await services.rokt.listAccounts(limit: limit, cursor: after).result.mapError(Problem.upstream).get()
        let visible = page.accounts.filter { caller.key.allows(merchant: $0.accountId) }
        let data = visible.map { account -> JSONValue in
            var members: [String: JSONValue] = ["accountId": .string(account.accountId)]
            members["externalAccountId"] = account.externalAccountId.map(JSONValue.string) ?? .null
            members["name"] = account.name.map(JSONValue.string) ?? .null
            members["createdAt"] = account.createdAt.map(JSONValue.string) ?? .null
            return .object(members)
        }
        return .json(.object(["data": .array(data), "nextCursor": page.nextCursor.map(JSONValue.string) ?? .null]))
    }
}
