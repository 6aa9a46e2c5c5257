import JSON
import JWT
import JWTTestSupport
import Testing

/// Tokens minted by PyJWT (or forged by hand in Python) against our verifier, at a fixed instant.
@Suite struct TokenVerifierTests {
    private func verify(_ name: String, keys: [VerificationKey]? = nil, policy: TokenPolicy = Fixtures.policy) async throws -> Result<VerifiedToken, TokenRejection> {
        let minted = try await Fixtures.minted()
        let keys = try keys ?? Fixtures.keys(minted)
        do throws(TokenRejection) {
            return .success(try TokenVerifier.verify(minted[name], keys: keys, policy: policy, nowMillis: Fixtures.nowMillis))
        } catch { return .failure(error) }
    }

    private func rejection(_ name: String, keys: [VerificationKey]? = nil, policy: TokenPolicy = Fixtures.policy) async throws -> TokenRejection? {
        if case .failure(let rejection) = try await verify(name, keys: keys, policy: policy) { return rejection }
        return nil
    }

    @Test(arguments: ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
    func eachAsymmetricAlgorithmVerifies(_ name: String) async throws {
        let token = try await verify(name).get()
        #expect(token.algorithm.rawValue == name)
        #expect(token.subject == "user-1")
        #expect(token.issuer == Fixtures.issuer)
        #expect(token.tokenId == "token-1")
    }

    @Test func hs256VerifiesWithTheConfiguredSecret() async throws {
        let minted = try await Fixtures.minted()
        let token = try await verify("HS256", keys: [try Fixtures.secret(minted)]).get()
        #expect(token.algorithm == .hs256)
        // With a secret of another value it fails.
        let other = try VerificationKey.sharedSecret(id: nil, Array((minted.hs256Secret + "x").utf8))
        #expect(try await rejection("HS256", keys: [other]) == .badSignature)
    }

    @Test func timeClaimsHonourTheLeeway() async throws {
        #expect(try await rejection("expired") == .expired)
        #expect(try await rejection("expired within leeway") == nil)
        #expect(try await rejection("expired by a fraction") == .expired)
        #expect(try await rejection("fractional exp within leeway") == nil)
        #expect(try await rejection("not yet valid") == .notYetValid)
        #expect(try await rejection("nbf within leeway") == nil)
        #expect(try await rejection("issued in the future") == .issuedInTheFuture)
        // Without leeway the token 59 s past its exp is expired too.
        var strict = Fixtures.policy
        strict.leeway = .zero
        #expect(try await rejection("expired within leeway", policy: strict) == .expired)
    }

    @Test func issuerAndAudienceMustMatch() async throws {
        #expect(try await rejection("wrong issuer") == .wrongIssuer)
        #expect(try await rejection("wrong audience") == .wrongAudience)
        #expect(try await rejection("audience array") == nil)
        #expect(try await rejection("audience array without us") == .wrongAudience)
        var other = Fixtures.policy
        other.issuer = "https://issuer.example/"
        #expect(try await rejection("RS256", policy: other) == .wrongIssuer)
    }

    @Test func requiredClaimsMustBePresentAndTyped() async throws {
        #expect(try await rejection("no exp") == .missingClaim("exp"))
        #expect(try await rejection("no sub") == .missingClaim("sub"))
        #expect(try await rejection("string exp") == .malformedClaim("exp"))
    }

    @Test func algNoneIsRefusedEvenWithEveryAlgorithmAllowed() async throws {
        let minted = try await Fixtures.minted()
        let keys = try Fixtures.keys(minted) + [try Fixtures.secret(minted)]
        #expect(try await rejection("alg none", keys: keys) == .algorithmNotAllowed)
    }

    /// RFC 8725 §2.1: an HS256 token "signed" with the RSA public key (PEM or JWK) as the secret.
    @Test(arguments: ["HS256 keyed with the RSA PEM", "HS256 keyed with the RSA JWK"])
    func rsaPublicKeyIsNeverAnHMACSecret(_ name: String) async throws {
        #expect(try await rejection(name) == .algorithmKeyMismatch)
        // Not with the HS256 secret configured beside the JWKS either.
        let minted = try await Fixtures.minted()
        #expect(try await rejection(name, keys: try Fixtures.keys(minted) + [try Fixtures.secret(minted)]) == .algorithmKeyMismatch)
    }

    @Test func algorithmMustMatchTheKeyTheKidNames() async throws {
        #expect(try await rejection("RS256 naming the EC key") == .algorithmKeyMismatch)
    }

    @Test func tamperingBreaksTheSignature() async throws {
        #expect(try await rejection("tampered payload") == .badSignature)
        #expect(try await rejection("tampered signature") == .badSignature)
        #expect(try await rejection("signed by another RSA key") == .badSignature)
    }

    @Test func es256WantsRawRAndSNotDER() async throws {
        #expect(try await rejection("ES256 DER signature") == .badSignature)
    }

    @Test func unknownKidAsksForAnotherKeySet() async throws {
        #expect(try await rejection("unknown kid") == .unknownKey)
        let minted = try await Fixtures.minted()
        #expect(try await rejection("RS256", keys: []) == .unknownKey)
        // Once the key set has the key (rotated in under the kid the token names), it verifies.
        let rotated = [try rsaKey(minted, "rsa-1", kid: "rsa-9")]
        #expect(try await rejection("unknown kid", keys: rotated) == nil)
    }

    @Test func missingKidUsesTheOnlyKeyOfTheAlgorithmsType() async throws {
        let minted = try await Fixtures.minted()
        #expect(try await rejection("RS256 without kid") == nil)
        // Two RSA keys: which one is ambiguous.
        #expect(try await rejection("RS256 without kid", keys: try Fixtures.keys(minted, kids: ["rsa-1", "rsa-2", "ec-1"])) == .missingKeyId)
    }

    @Test func allowListExcludesAlgorithms() async throws {
        var only = Fixtures.policy
        only.algorithms = [.es256]
        #expect(try await rejection("RS256", policy: only) == .algorithmNotAllowed)
        #expect(try await rejection("ES256", policy: only) == nil)
        only.algorithms = [.edDSA]
        #expect(try await rejection("Ed25519", policy: only) == .algorithmNotAllowed)
    }

    /// A JWK's `alg` pins the key to that algorithm: a PS256 token is refused by an RS256-only key.
    @Test func jwkAlgPinsTheKey() async throws {
        let minted = try await Fixtures.minted()
        let pinned = try rsaKey(minted, "rsa-1", kid: "rsa-1", alg: "RS256")
        #expect(try await rejection("RS256", keys: [pinned]) == nil)
        #expect(try await rejection("PS256", keys: [pinned]) == .algorithmKeyMismatch)
    }

    @Test func typMustBeJWTOrAnAccessToken() async throws {
        #expect(try await rejection("access token typ") == nil)
        #expect(try await rejection("dpop typ") == .wrongType)
    }

    @Test func critIsRefusedAndJkuIgnored() async throws {
        #expect(try await rejection("crit header") == .criticalHeader)
        // `jku` is never followed: the token verifies with the configured keys alone.
        #expect(try await rejection("jku header") == nil)
        #expect(try await rejection("jku header", keys: []) == .unknownKey)
    }

    @Test func malformedTokensAreRefusedBeforeAnyKeyIsUsed() throws {
        let keys: [VerificationKey] = []
        for token in ["", "a.b", "a.b.c.d", "e31.e30.AA", "e30=.e30.AA", "e30.e30.A", "W10.e30.AA", "e30.bnVsbA.AA", "e30.e30.A+"] {
            #expect(throws: TokenRejection.malformed, "\(token)") { try TokenVerifier.verify(token, keys: keys, policy: Fixtures.policy, nowMillis: 0) }
        }
        let long = "e30.e30." + String(repeating: "A", count: CompactJWS.maxLength)
        #expect(throws: TokenRejection.tooLarge) { try TokenVerifier.verify(long, keys: keys, policy: Fixtures.policy, nowMillis: 0) }
    }

    @Test func rejectionTextsNeverQuoteTheToken() async throws {
        let minted = try await Fixtures.minted()
        for spec in Fixtures.specs {
            if case .failure(let rejection) = try await verify(spec.name) {
                #expect(!rejection.description.contains(minted[spec.name]))
                #expect(rejection.description.count < 60)
            }
        }
    }

    private func rsaKey(_ minted: MintedTokens, _ kid: String, kid newKid: String, alg: String? = nil) throws -> VerificationKey {
        guard case .object(var jwk)? = minted.publicKeys[kid] else { throw TokenRejection.unknownKey }
        jwk["kid"] = .string(newKid)
        if let alg { jwk["alg"] = .string(alg) }
        return try JSONWebKeySet(parsing: JSONValue.object(["keys": .array([.object(jwk)])]).serializedBytes).keys[0]
    }
}
