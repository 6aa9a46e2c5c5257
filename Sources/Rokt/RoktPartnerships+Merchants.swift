import HTTP

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

/// One page of `GET /v1/partnership/accounts`; `nextCursor` is nil on the last page.
public struct RoktAccountPage: Codable, Sendable, Equatable {
    public var accounts: [RoktAccount]
    public var nextCursor: String?
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
