import HTTP

/// Who is calling, once authenticated (`Authorization`): a server's API key, a checkout page's
/// publishable key, or a user proven by a bearer token. Routes and the engine see only this.
public struct Caller: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        /// `rgw_…`.
        case apiKey(ApiKey)
        /// `pk_…`, with the client address it was presented from (behind TRUSTED_PROXIES).
        case publishableKey(ApiKey, clientAddress: String?)
        /// A bearer token that is not a key (a JWT from the partner's identity provider).
        case user(TokenPrincipal)
    }

    public let credential: Credential

    public init(_ credential: Credential) { self.credential = credential }

    /// Stable and never secret: names the caller's Idempotency-Keys, operations and logs. A key's
    /// id; for a user, `user:` + a digest of the issuer + `:` + `sub`, so two issuers' users with
    /// one `sub` stay two callers.
    public var id: String {
        switch credential {
        case .apiKey(let key), .publishableKey(let key, _): key.id
        case .user(let user): "user:" + Digest.sha256Hex(user.issuer).prefix(16) + ":" + user.subject
        }
    }

    /// What a per-caller rate limit counts against: the caller, and for a publishable key (one
    /// key shared by every shopper) the key and the client address.
    public var rateLimitPartition: String {
        switch credential {
        case .apiKey(let key): RateLimitPartition.apiKey(id: key.id)
        case .publishableKey(let key, let address): RateLimitPartition.publishable(keyId: key.id, clientAddress: address)
        // `id` already names the user by `iss` and `sub` together, in a form no key id takes.
        case .user: id
        }
    }

    /// The rate-limit class of this caller's request to `template`.
    func rateLimitClass(method: HTTPMethod, template: String) -> RateLimitClass {
        var publishable = false
        if case .publishableKey = credential { publishable = true }
        return RateLimitClass.of(method: method, template: template, publishable: publishable)
    }

    public var scopes: Set<Scope> {
        switch credential {
        case .apiKey(let key): key.scopes
        case .publishableKey: []
        case .user(let user): user.scopes
        }
    }

    /// The merchant account ids the caller may touch; nil means all of them, empty none.
    public var merchants: Set<String>? {
        switch credential {
        case .apiKey(let key): key.merchants
        case .publishableKey: []
        case .user(let user): user.merchants
        }
    }

    /// `admin` implies every other scope, for keys and users alike.
    public func allows(_ scope: Scope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }
    public func allows(merchant: String) -> Bool { merchants?.contains(merchant) ?? true }

    /// The key's id, for the access log's `api_key_id` (nil for a user).
    public var apiKeyId: String? {
        switch credential {
        case .apiKey(let key), .publishableKey(let key, _): key.id
        case .user: nil
        }
    }

    /// What a refusal's detail calls this caller.
    var noun: String {
        switch credential {
        case .apiKey: "This API key"
        case .publishableKey: "This publishable key"
        case .user: "This token"
        }
    }

    /// The caller of the request being handled, set once it is authenticated (`GatewayRouter.handle`).
    @TaskLocal static var current: Caller?
}
