import HTTP
import JSON
import Rokt

/// `GET /v1/merchants` (the managed accounts, paginated), and what `POST /v1/merchants`
/// (register, a row of `WriteEndpoint.all`) needs beyond the common write path.
///
/// Register is idempotent on `externalAccountId` end to end: the operation and the
/// `merchants` row binding the id to it are committed in one transaction, so a retried,
/// duplicated or concurrent register joins the operation already registering that id instead
/// of sending another. 201 for a new merchant; 200 with the existing one otherwise.
struct MerchantRoutes: Sendable {
    static let defaultPageSize = 50
    static let maxPageSize = 100
    /// The new account cannot be on a merchant list yet: only unrestricted callers register.
    static let restrictedKeyRefusal = "This caller is limited to some merchants; registering a merchant needs a key or token without a merchant list."

    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/v1/merchants") { request in try await list(request) }
    }

    /// Rokt's register call; its lane keeps two registers of one id from running at once.
    static func write(registering registration: RoktRegistration) -> SingleWrite {
        SingleWrite(
            kind: .register, lane: "register:" + registration.externalAccountId, method: "POST", path: RoktPath.register,
            body: registration.jsonValue)
    }

    /// `{externalAccountId, name, website?, country?}`, with Rokt's rules checked here so a bad
    /// body is a 400 naming the field rather than a failed operation.
    static func registration(_ request: HTTPRequest) throws(Problem) -> ValidatedWrite {
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
        let validExternal = try fields.valid(external), validName = try fields.valid(name)
        var json: [String: JSONValue] = ["externalAccountId": .string(validExternal), "name": .string(validName)]
        if let website { json["website"] = .string(website) }
        if let country { json["country"] = .string(country) }
        let registration = RoktRegistration(externalAccountId: validExternal, name: validName, website: website, country: country)
        return ValidatedWrite(intent: .register(registration), request: .object(json))
    }

    private static func isExternalIdByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte | 0x20) || (0x30...0x39).contains(byte) || [0x2D, 0x5F, 0x2E, 0x3A].contains(byte)
    }

    /// `?limit=` 1… (above 100 is clamped to 100; default 50) and `?after=` the `nextCursor` of
    /// the previous page → `{data: [merchant], nextCursor}`. A key with a merchant list sees
    /// only those merchants (its pages may be shorter than `limit`).
    private func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let caller = try Authorization.caller()
        var errors: [Problem.FieldError] = []
        var limit = Self.defaultPageSize
        if let raw = request.query["limit"] {
            if let value = Int(raw), value >= 1 {
                limit = min(value, Self.maxPageSize)
            } else {
                errors.append(.init(field: "limit", message: "must be a positive integer (at most \(Self.maxPageSize) are returned)"))
            }
        }
        let after = request.query["after"]
        if let after, !(1...512).contains(after.utf8.count) || !after.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            errors.append(.init(field: "after", message: "must be the nextCursor of a previous page"))
        }
        if !errors.isEmpty { throw Problem.validation(errors) }
        let page = try await services.rokt.listAccounts(limit: limit, cursor: after).result.mapError(Problem.upstream).get()
        let visible = page.accounts.filter { caller.allows(merchant: $0.accountId) }
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
