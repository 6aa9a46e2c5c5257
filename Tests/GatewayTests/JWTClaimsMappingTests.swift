import JSON
import JWT
import Testing
@testable import Gateway

/// Scopes and merchants from a verified token's claims.
@Suite struct JWTClaimsMappingTests {
    static func mapping(_ change: (inout JWTConfiguration) -> Void = { _ in }) -> JWTClaimsMapping {
        var configuration = JWTConfiguration(policy: TokenPolicy(issuer: "i", audience: "a"), keySource: .sharedSecret([]))
        change(&configuration)
        return JWTClaimsMapping(configuration: configuration)
    }

    @Test func scopesFromScopeOrScpMappedOntoOurs() throws {
        let mapping = Self.mapping()
        #expect(try mapping.scopes(["scope": .string("openid read rokt-gateway:write profile")]) == [.read, .write])
        #expect(try mapping.scopes(["scp": .array([.string("webhooks"), .string("email")])]) == [.webhooks])
        #expect(try mapping.scopes(["scp": .string("admin")]) == [.admin])
        // `scope` wins over `scp`; no claim grants nothing.
        #expect(try mapping.scopes(["scope": .string("read"), "scp": .array([.string("admin")])]) == [.read])
        #expect(try mapping.scopes([:]) == [])
        #expect(throws: TokenRejection.malformedClaim("scope")) { try mapping.scopes(["scope": .integer(1)]) }
        #expect(throws: TokenRejection.malformedClaim("scp")) { try mapping.scopes(["scp": .array([.integer(1)])]) }
    }

    @Test func aConfiguredScopeClaimAndMapReplaceTheDefaults() throws {
        let mapping = Self.mapping {
            $0.scopesClaim = "permissions"
            $0.scopeMap = ["rokt:read": .read]
        }
        #expect(try mapping.scopes(["permissions": .array([.string("rokt:read"), .string("read")]), "scope": .string("admin")]) == [.read])
    }

    @Test func merchantsFromTheClaimArrayOrString() throws {
        let mapping = Self.mapping()
        #expect(try mapping.merchants(["merchant_ids": .array([.string("m1"), .string("m2")])]) == ["m1", "m2"])
        #expect(try mapping.merchants(["merchant_ids": .string("m1 m3")]) == ["m1", "m3"])
        // Without the claim the user may touch no merchant; `*` means nothing unless configured.
        #expect(try mapping.merchants([:]) == [])
        #expect(try mapping.merchants(["merchant_ids": .string("*")]) == ["*"])
        #expect(throws: TokenRejection.malformedClaim("merchants")) { try mapping.merchants(["merchant_ids": .object([:])]) }
    }

    @Test func theAllMerchantsValueOnlyWhenConfigured() throws {
        let mapping = Self.mapping {
            $0.merchantsClaim = "https://partner.example/merchants"
            $0.allMerchantsValue = "*"
        }
        #expect(try mapping.merchants(["https://partner.example/merchants": .array([.string("*")])]) == nil)
        #expect(try mapping.merchants(["https://partner.example/merchants": .array([.string("m1")]), "merchant_ids": .string("*")]) == ["m1"])
    }
}

/// When the issuer's key set is fetched again.
@Suite struct JWKSRefreshPolicyTests {
    @Test func maxAgeFromCacheControlWithinBounds() {
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: nil) == .seconds(600))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "public, max-age=3600") == .seconds(3600))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "max-age=\"120\"") == .seconds(120))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "max-age=5") == .seconds(60))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "max-age=9999999") == .seconds(86_400))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "no-store") == .seconds(60))
        #expect(JWKSRefreshPolicy.maxAge(cacheControl: "public, max-age=soon") == .seconds(600))
    }

    @Test func refreshBeforeExpiryAndBackOffAfterFailures() {
        #expect(JWKSRefreshPolicy.delayAfterSuccess(maxAge: .seconds(600)) == .seconds(480))
        #expect((1...6).map { JWKSRefreshPolicy.delayAfterFailure(failures: $0) } == [1, 2, 4, 8, 16, 32].map { .seconds($0) })
        #expect(JWKSRefreshPolicy.delayAfterFailure(failures: 40) == .seconds(300))
    }
}
