/// A caller proven by a bearer token that is not an API key: a JWT from the partner's identity
/// provider (README.md, "JWT bearer tokens").
public struct TokenPrincipal: Sendable, Equatable {
    /// `iss`: who vouches for the user.
    public var issuer: String
    /// `sub`: who the user is (logged; partitions rate limits and Idempotency-Keys).
    public var subject: String
    /// `jti`, when the token has one (logged).
    public var tokenId: String?
    public var scopes: Set<Scope>
    /// The merchant account ids the user may touch; nil means all of them.
    public var merchants: Set<String>?

    public init(issuer: String, subject: String, tokenId: String?, scopes: Set<Scope>, merchants: Set<String>?) {
        self.issuer = issuer
        self.subject = subject
        self.tokenId = tokenId
        self.scopes = scopes
        self.merchants = merchants
    }
}

/// What checking a token against the keys in memory found.
public enum TokenCheck: Sendable, Equatable {
    case valid(TokenPrincipal)
    /// Refused. `reason` becomes RFC 6750's `error_description`: short, and never the token.
    case invalid(reason: String)
    /// Signed with a `kid` the key set lacks: worth one `refreshForUnknownKey()` and a second check.
    case unknownKey
}

/// Verifies bearer tokens that are not API keys; configured by the AUTH_* variables.
public protocol TokenAuthenticator: Sendable {
    /// Checks `token` with the keys in memory; never waits on the network.
    func check(_ token: String) -> TokenCheck
    /// Fetches the key set again unless an unknown-`kid` fetch ran in the last 30 s; returns when
    /// that fetch ended (or at once when throttled).
    func refreshForUnknownKey() async
    /// Why no token can be verified now (say, no key set could be fetched yet); nil when tokens
    /// can be. `/readyz` reports it as degraded: API keys are still served.
    var unavailableReason: String? { get }
}

extension TokenAuthenticator {
    public var unavailableReason: String? { nil }
}
