import JSON
import JWT
import JWTTestSupport
import Synchronization

/// The tokens every JWT test checks, minted once per test process by PyJWT at a fixed instant.
enum Fixtures {
    static let now: Int64 = 1_790_000_000
    static var nowMillis: Int64 { now * 1000 }
    static let issuer = "https://issuer.example"
    static let audience = "rokt-gateway"
    static let policy = TokenPolicy(issuer: issuer, audience: audience)

    static func claims(_ changes: [String: JSONValue?] = [:]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "iss": .string(issuer), "aud": .string(audience), "sub": .string("user-1"), "jti": .string("token-1"),
            "iat": .integer(Int(now) - 10), "exp": .integer(Int(now) + 600),
        ]
        for (name, value) in changes { claims[name] = value }
        return claims
    }

    static let specs: [TokenSpec] = [
        TokenSpec("RS256", alg: "RS256", kid: "rsa-1", claims: claims()),
        TokenSpec("PS256", alg: "PS256", kid: "rsa-1", claims: claims()),
        TokenSpec("ES256", alg: "ES256", kid: "ec-1", claims: claims()),
        TokenSpec("EdDSA", alg: "EdDSA", kid: "ed-1", claims: claims()),
        TokenSpec("Ed25519", alg: "Ed25519", kid: "ed-1", claims: claims(), mode: .byHand),
        TokenSpec("HS256", alg: "HS256", kid: nil, claims: claims()),
        TokenSpec("RS256 without kid", alg: "RS256", kid: nil, signingKey: "rsa-1", claims: claims()),
        TokenSpec("expired", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .integer(Int(now) - 60)])),
        TokenSpec("expired within leeway", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .integer(Int(now) - 59)])),
        TokenSpec("expired by a fraction", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .number(Double(now) - 60.25)])),
        TokenSpec("fractional exp within leeway", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .number(Double(now) - 59.75)])),
        TokenSpec("not yet valid", alg: "RS256", kid: "rsa-1", claims: claims(["nbf": .integer(Int(now) + 61)])),
        TokenSpec("nbf within leeway", alg: "RS256", kid: "rsa-1", claims: claims(["nbf": .integer(Int(now) + 60)])),
        TokenSpec("issued in the future", alg: "RS256", kid: "rsa-1", claims: claims(["iat": .integer(Int(now) + 61)])),
        TokenSpec("wrong issuer", alg: "RS256", kid: "rsa-1", claims: claims(["iss": .string("https://evil.example")])),
        TokenSpec("wrong audience", alg: "RS256", kid: "rsa-1", claims: claims(["aud": .string("someone-else")])),
        TokenSpec("audience array", alg: "ES256", kid: "ec-1", claims: claims(["aud": .array([.string("other"), .string(audience)])])),
        TokenSpec("audience array without us", alg: "ES256", kid: "ec-1", claims: claims(["aud": .array([.string("other")])])),
        TokenSpec("no exp", alg: "RS256", kid: "rsa-1", claims: claims(["exp": nil])),
        TokenSpec("no sub", alg: "RS256", kid: "rsa-1", claims: claims(["sub": nil])),
        TokenSpec("string exp", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .string("tomorrow")])),
        TokenSpec("alg none", alg: "none", kid: nil, claims: claims(), mode: .none),
        TokenSpec("HS256 keyed with the RSA PEM", alg: "HS256", kid: "rsa-1", claims: claims(), mode: .hmacWithPublicPEM),
        TokenSpec("HS256 keyed with the RSA JWK", alg: "HS256", kid: "rsa-1", claims: claims(), mode: .hmacWithPublicJWK),
        TokenSpec("tampered payload", alg: "RS256", kid: "rsa-1", claims: claims(), mode: .tamperedPayload),
        TokenSpec("tampered signature", alg: "ES256", kid: "ec-1", claims: claims(), mode: .tamperedSignature),
        TokenSpec("ES256 DER signature", alg: "ES256", kid: "ec-1", claims: claims(), mode: .derSignature),
        TokenSpec("unknown kid", alg: "RS256", kid: "rsa-9", signingKey: "rsa-1", claims: claims()),
        TokenSpec("RS256 naming the EC key", alg: "RS256", kid: "ec-1", signingKey: "rsa-1", claims: claims()),
        TokenSpec("signed by another RSA key", alg: "RS256", kid: "rsa-1", signingKey: "rsa-2", claims: claims()),
        TokenSpec("access token typ", alg: "RS256", kid: "rsa-1", claims: claims(), header: ["typ": .string("AT+JWT")]),
        TokenSpec("dpop typ", alg: "RS256", kid: "rsa-1", claims: claims(), header: ["typ": .string("dpop+jwt")]),
        TokenSpec("crit header", alg: "RS256", kid: "rsa-1", claims: claims(), header: ["crit": .array([.string("exp")]), "exp": .integer(1)]),
        TokenSpec("jku header", alg: "RS256", kid: "rsa-1", claims: claims(), header: ["jku": .string("https://evil.example/jwks")]),
    ]

    private static let minting = MintOnce(specs)

    static func minted() async throws -> MintedTokens { try await minting.tokens() }

    /// The issuer's published set (RSA, EC and Ed25519) and the configured HS256 secret.
    static func keys(_ minted: MintedTokens, kids: [String] = ["rsa-1", "ec-1", "ed-1"]) throws -> [VerificationKey] {
        try JSONWebKeySet(parsing: minted.keySet(kids)).keys
    }

    static func secret(_ minted: MintedTokens) throws -> VerificationKey {
        try VerificationKey.sharedSecret(id: nil, Array(minted.hs256Secret.utf8))
    }
}
