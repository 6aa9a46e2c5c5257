import HTTP
import JSON

/// Managed accounts as Rokt lists and registers them.
public struct RoktAccount: Codable, Sendable, Equatable {
    public var accountId: String
    public var externalAccountId: String?
    public var parentAccountId: String?
    public var name: String?
    public var createdAt: String?

    public init(accountId: String, externalAccountId: String? = nil, parentAccountId: String? = nil, name: String? = nil, createdAt: String? = nil) {
        self.accountId = accountId
        self.externalAccountId = externalAccountId
        self.parentAccountId = parentAccountId
        self.name = name
        self.createdAt = createdAt
    }
}

extension RoktAccount: JSONValueRepresentable {
    /// An account as listed or registered: the id as `accountId`/`account_id` (or `id`), a string
    /// or a number; the other members optional, unknown ones ignored.
    public init(json: JSONValue) throws(JSONShapeError) {
        let members = try json.members(of: "account")
        let named = try members.lenient("accountId", \.idValue), bare = try members.lenient("id", \.idValue)
        guard let id = named ?? bare, !id.isEmpty else {
            throw JSONShapeError("accountId: missing")
        }
        accountId = id
        externalAccountId = try members.lenient("externalAccountId", \.idValue)
        parentAccountId = try members.lenient("parentAccountId", \.idValue)
        name = try members.lenient("name", \.stringValue)
        createdAt = try members.lenient("createdAt", \.stringValue)
    }

    /// The gateway's own spelling: camelCase, absent members as null.
    public var jsonValue: JSONValue {
        .object([
            "accountId": .string(accountId), "externalAccountId": externalAccountId.map(JSONValue.string) ?? .null,
            "parentAccountId": parentAccountId.map(JSONValue.string) ?? .null, "name": name.map(JSONValue.string) ?? .null,
            "createdAt": createdAt.map(JSONValue.string) ?? .null,
        ])
    }

    /// Rokt's answer to a register (or an operation's result for one), in the gateway's spelling;
    /// nil when it names no account.
    public static func registered(_ answer: JSONValue) -> JSONValue? {
        (try? RoktAccount(json: answer))?.jsonValue
    }
}

/// One page of `GET /v1/partnership/accounts`; `nextCursor` is nil on the last page.
public struct RoktAccountPage: Codable, Sendable, Equatable, JSONValueRepresentable {
    public var accounts: [RoktAccount]
    public var nextCursor: String?

    public init(accounts: [RoktAccount], nextCursor: String?) {
        self.accounts = accounts
        self.nextCursor = nextCursor
    }

    static let listMembers = ["accounts", "items", "data"]
    static let cursorMembers = ["nextCursor", "cursor"]

    /// A bare array of accounts (one page, no cursor), or an object with the accounts under
    /// `accounts`, `items` or `data` and the cursor under `nextCursor`, `next_cursor` or `cursor`
    /// (an empty cursor is the last page).
    public init(json: JSONValue) throws(JSONShapeError) {
        switch json {
        case .array(let items):
            accounts = try Self.accounts(items)
            nextCursor = nil
        case .object(let members):
            guard let list = members.member(anyOf: Self.listMembers) else { throw JSONShapeError("account list: no accounts, items or data") }
            switch list {
            case .array(let items):
                accounts = try Self.accounts(items)
                let cursor = try members.member(anyOf: Self.cursorMembers).map { value throws(JSONShapeError) -> String in
                    guard let cursor = value.idValue else { throw JSONShapeError("nextCursor: unexpected type") }
                    return cursor
                }
                nextCursor = cursor?.isEmpty == true ? nil : cursor
            case .object:
                self = try RoktAccountPage(json: list)  // one more level: `{data: {accounts, nextCursor}}`
            default:
                throw JSONShapeError("account list: expected an array")
            }
        default:
            throw JSONShapeError("account list: expected an array or an object")
        }
    }

    public var jsonValue: JSONValue {
        .object(["accounts": .array(accounts.map(\.jsonValue)), "nextCursor": nextCursor.map(JSONValue.string) ?? .null])
    }

    private static func accounts(_ items: [JSONValue]) throws(JSONShapeError) -> [RoktAccount] {
        var accounts: [RoktAccount] = []
        accounts.reserveCapacity(items.count)
        for item in items { accounts.append(try RoktAccount(json: item)) }
        return accounts
    }
}

/// The body of `POST /v1/accounts/register/partnership`: snake_case, as Rokt spells
/// `external_account_id` (the field it is idempotent on).
public struct RoktRegistration: Sendable, Equatable {
    public var externalAccountId: String
    public var name: String
    public var website: String?
    public var country: String?

    /// The body of `POST /v1/accounts/register/partnership`.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["external_account_id": .string(externalAccountId), "name": .string(name)]
        if let website { members["website"] = .string(website) }
        if let country { members["country"] = .string(country) }
        return .object(members)
    }

    public init(externalAccountId: String, name: String, website: String?, country: String?) {
        self.externalAccountId = externalAccountId
        self.name = name
        self.website = website
        self.country = country
    }
}

extension RoktClient {
    /// The manager account's merchants, a page at a time (`limit` 1–100; `cursor` from the previous page).
    public func listAccounts(limit: Int, cursor: String?) async -> Outcome<RoktAccountPage> {
        var query = [("parent_account_id", configuration.parentAccountId), ("limit", String(limit))]
        if let cursor { query.append(("cursor", cursor)) }
        let outcome = await send(.get, RoktPath.accounts, query: query)
        switch outcome.result {
        case .success(let response):
            do {
                return (.success(try response.decode(RoktAccountPage.self)), outcome.call)
            } catch {
                return (.failure(error), outcome.call)
            }
        case .failure(let error):
            return (.failure(error), outcome.call)
        }
    }

    /// A write validated by Rokt with `dry_run=true`. The key must be fresh and never reused:
    /// Rokt caches the dry-run under it, so a real write with it would only replay the preview.
    public func dryRunWrite(_ method: HTTPMethod, _ path: String, body: [UInt8]?, idempotencyKey: String) async -> Outcome<RoktResponse> {
        await send(method, path, query: [("dry_run", "true")], body: body, idempotencyKey: idempotencyKey)
    }
}
