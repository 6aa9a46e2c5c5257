import JSON
import JWT

/// A verified token's claims as a caller: the scopes it grants and the merchants it may touch
/// (README "JWT bearer tokens"). Pure, so every rule is tested without keys.
struct JWTClaimsMapping: Sendable {
    let configuration: JWTConfiguration

    func principal(for token: VerifiedToken) throws(TokenRejection) -> TokenPrincipal {
        TokenPrincipal(
            issuer: token.issuer, subject: token.subject, tokenId: token.tokenId, scopes: try scopes(token.claims),
            merchants: try merchants(token.claims))
    }

    /// From AUTH_SCOPES_CLAIM when configured, else `scope` (RFC 8693 §4.2, space-separated), else
    /// `scp` (an array, as Okta and Azure write it). Names the map does not know grant nothing.
    func scopes(_ claims: [String: JSONValue]) throws(TokenRejection) -> Set<Scope> {
        let name = configuration.scopesClaim ?? (claims["scope"] != nil ? "scope" : "scp")
        guard let value = claims[name] else { return [] }
        guard let names = Self.names(value) else { throw .malformedClaim(name) }
        return Set(names.compactMap { configuration.scopeMap[$0] })
    }

    /// The merchants claim's ids; none when the claim is absent. Only AUTH_ALL_MERCHANTS_VALUE
    /// among them (when configured) means every merchant.
    func merchants(_ claims: [String: JSONValue]) throws(TokenRejection) -> Set<String>? {
        guard let value = claims[configuration.merchantsClaim] else { return [] }
        guard let ids = Self.names(value) else { throw .malformedClaim("merchants") }
        if let all = configuration.allMerchantsValue, ids.contains(all) { return nil }
        return Set(ids)
    }

    /// A space-separated string or an array of strings; nil for anything else.
    static func names(_ value: JSONValue) -> [String]? {
        switch value {
        case .string(let text): return text.split(separator: " ").map(String.init)
        case .array(let items):
            var names: [String] = []
            for item in items {
                guard let name = item.stringValue else { return nil }
                names.append(name)
            }
            return names
        default: return nil
        }
    }
}
