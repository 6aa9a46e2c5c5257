import JSON

/// What a token must satisfy besides its signature; the gateway builds it from AUTH_* variables.
public struct TokenPolicy: Sendable, Equatable {
    /// `iss` must equal this exactly (RFC 8725 §3.8).
    public var issuer: String
    /// `aud` (a string or an array) must contain this (RFC 8725 §3.9).
    public var audience: String
    /// The allow-list (RFC 8725 §3.1); a token naming any other `alg` is refused.
    public var algorithms: Set<JWSAlgorithm>
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var leeway: Duration

    public init(issuer: String, audience: String, algorithms: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases), leeway: Duration = .seconds(60)) {
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway = leeway
    }
}

/// A token whose signature and claims checked out.
public struct VerifiedToken: Sendable {
    public let header: [String: JSONValue]
    public let claims: [String: JSONValue]
    public let issuer: String
    public let subject: String
    public let tokenId: String?
    public let algorithm: JWSAlgorithm
}

/// Verifies a compact JWS against keys in memory and a policy, at an instant the caller gives:
/// pure apart from OpenSSL's arithmetic, so every rule is tested with a fixed clock.
public enum TokenVerifier {
    /// `typ` values accepted when present (RFC 7519 §5.1, RFC 9068 §2.1), compared case-insensitively.
    static let acceptedTypes: Set<String> = ["jwt", "at+jwt", "application/at+jwt"]

    public static func verify(_ token: String, keys: [VerificationKey], policy: TokenPolicy, nowMillis: Int64) throws(TokenRejection) -> VerifiedToken {
        let jws = try CompactJWS(parsing: token)
        // The algorithm is read, then held against the allow-list and the key: never trusted alone.
        guard let name = jws.algorithmName, let algorithm = JWSAlgorithm(rawValue: name), policy.algorithms.contains(algorithm) else {
            throw .algorithmNotAllowed
        }
        guard jws.header["crit"] == nil else { throw .criticalHeader }
        if let typ = jws.header["typ"] {
            guard let text = typ.stringValue, acceptedTypes.contains(text.lowercased()) else { throw .wrongType }
        }
        let key = try selectKey(for: jws.header["kid"], algorithm: algorithm, in: keys)
        guard key.verifies(jws.signature, of: jws.signingInput, with: algorithm) else { throw .badSignature }
        let claims = try ClaimsCheck(claims: jws.payload, policy: policy, now: Double(nowMillis) / 1000).checked()
        return VerifiedToken(
            header: jws.header, claims: jws.payload, issuer: claims.issuer, subject: claims.subject, tokenId: claims.tokenId, algorithm: algorithm)
    }

    /// `kid` picks the key; without one, the only key that can verify `algorithm` is used, and
    /// several such keys are ambiguous. A key of another type never verifies: an RS256 key named by
    /// an HS256 token is a mismatch, not a secret.
    static func selectKey(for kid: JSONValue?, algorithm: JWSAlgorithm, in keys: [VerificationKey]) throws(TokenRejection) -> VerificationKey {
        if let kid {
            guard let id = kid.stringValue else { throw .malformed }
            var named = keys.filter { $0.id == id }
            // A configured secret has no kid of its own; it answers to whatever the token names.
            if named.isEmpty, keys.count == 1, keys[0].id == nil { named = keys }
            guard !named.isEmpty else { throw .unknownKey }
            guard let key = named.first(where: { $0.algorithms.contains(algorithm) }) else { throw .algorithmKeyMismatch }
            return key
        }
        guard !keys.isEmpty else { throw .unknownKey }
        let fitting = keys.filter { $0.algorithms.contains(algorithm) }
        guard fitting.count <= 1 else { throw .missingKeyId }
        guard let key = fitting.first else { throw .algorithmKeyMismatch }
        return key
    }
}

/// The registered claims (RFC 7519 §4.1) held against the policy at `now` (seconds since the
/// epoch; NumericDate may have a fraction).
struct ClaimsCheck {
    let claims: [String: JSONValue]
    let policy: TokenPolicy
    let now: Double

    struct Checked {
        let issuer: String
        let subject: String
        let tokenId: String?
    }

    func checked() throws(TokenRejection) -> Checked {
        let issuer = try string("iss")
        guard issuer == policy.issuer else { throw .wrongIssuer }
        try checkAudience()
        let leeway = Double(policy.leeway.components.seconds) + Double(policy.leeway.components.attoseconds) / 1e18
        guard let expiry = try number("exp") else { throw .missingClaim("exp") }
        guard now < expiry + leeway else { throw .expired }
        if let notBefore = try number("nbf") {
            guard now >= notBefore - leeway else { throw .notYetValid }
        }
        if let issuedAt = try number("iat") {
            guard issuedAt <= now + leeway else { throw .issuedInTheFuture }
        }
        let subject = try string("sub")
        guard !subject.isEmpty else { throw .missingClaim("sub") }
        var tokenId: String?
        if let jti = claims["jti"] {
            guard let text = jti.stringValue else { throw .malformedClaim("jti") }
            tokenId = text
        }
        return Checked(issuer: issuer, subject: subject, tokenId: tokenId)
    }

    private func checkAudience() throws(TokenRejection) {
        switch claims["aud"] {
        case nil: throw .missingClaim("aud")
        case .string(let audience)?: guard audience == policy.audience else { throw .wrongAudience }
        case .array(let audiences)?:
            guard audiences.allSatisfy({ $0.stringValue != nil }) else { throw .malformedClaim("aud") }
            guard audiences.contains(.string(policy.audience)) else { throw .wrongAudience }
        default: throw .malformedClaim("aud")
        }
    }

    private func string(_ name: String) throws(TokenRejection) -> String {
        guard let value = claims[name] else { throw .missingClaim(name) }
        guard let text = value.stringValue else { throw .malformedClaim(name) }
        return text
    }

    private func number(_ name: String) throws(TokenRejection) -> Double? {
        guard let value = claims[name] else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw .malformedClaim(name) }
        return number
    }
}
