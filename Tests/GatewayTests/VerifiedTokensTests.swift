import JSON
@testable import JWT
import Testing
@testable import Gateway

@Suite struct VerifiedTokensTests {
    static let principal = TokenPrincipal(issuer: "https://idp.example", subject: "dana", tokenId: "j1", scopes: [.read], merchants: nil)

    static func entry(from: Int64 = 1_000, until: Int64 = 2_000, generation: Int = 1) -> VerifiedTokens.Accepted {
        VerifiedTokens.Accepted(principal: principal, validFrom: from, validUntil: until, keyGeneration: generation)
    }

    @Test func anEntryServesOnlyInsideItsWindowAndUnderItsKeys() {
        var cache = VerifiedTokens()
        let key = VerifiedTokens.key("a.b.c")
        cache.accept(key, Self.entry())
        #expect(cache.lookup(key, nowMillis: 999, keyGeneration: 1) == nil)
        #expect(cache.lookup(key, nowMillis: 1_000, keyGeneration: 1) == .valid(Self.principal))
        #expect(cache.lookup(key, nowMillis: 1_999, keyGeneration: 1) != nil)
        #expect(cache.lookup(key, nowMillis: 2_000, keyGeneration: 1) == nil)
        #expect(cache.lookup(key, nowMillis: 1_500, keyGeneration: 2) == nil)
        #expect(cache.lookup(VerifiedTokens.key("a.b.d"), nowMillis: 1_500, keyGeneration: 1) == nil)
    }

    @Test func aFullCacheStartsOverAndNeverHoldsMoreThanItsCapacity() {
        var cache = VerifiedTokens(capacity: 3)
        for index in 0..<10 {
            cache.accept(VerifiedTokens.key("token-\(index)"), Self.entry())
            #expect(cache.count <= 3)
        }
        #expect(cache.lookup(VerifiedTokens.key("token-9"), nowMillis: 1_500, keyGeneration: 1) != nil)
        // Replacing an entry already held never empties the cache.
        cache.accept(VerifiedTokens.key("token-9"), Self.entry())
        #expect(cache.count == 1)
    }

    @Test func finalRefusalsAreRememberedApartAndOthersAreNot() {
        var cache = VerifiedTokens(capacity: 2)
        cache.accept(VerifiedTokens.key("user"), Self.entry())
        cache.refuse(VerifiedTokens.key("forged"), .badSignature, keyGeneration: 1)
        cache.refuse(VerifiedTokens.key("old"), .expired, keyGeneration: 1)
        #expect(cache.lookup(VerifiedTokens.key("forged"), nowMillis: 1_500, keyGeneration: 1) == .invalid(reason: "the token's signature is invalid"))
        #expect(cache.lookup(VerifiedTokens.key("forged"), nowMillis: 1_500, keyGeneration: 2) == nil, "new keys: checked again")
        // Time or a fetched key may lift these: never remembered.
        for (name, rejection) in [("early", TokenRejection.notYetValid), ("future", .issuedInTheFuture), ("rotated", .unknownKey)] {
            cache.refuse(VerifiedTokens.key(name), rejection, keyGeneration: 1)
            #expect(cache.lookup(VerifiedTokens.key(name), nowMillis: 1_500, keyGeneration: 1) == nil)
        }
        // A flood of forged tokens starts the refusals over, never the accepted users.
        for index in 0..<10 { cache.refuse(VerifiedTokens.key("flood-\(index)"), .badSignature, keyGeneration: 1) }
        #expect(cache.lookup(VerifiedTokens.key("user"), nowMillis: 1_500, keyGeneration: 1) == .valid(Self.principal))
    }

    @Test func theWindowIsTheTimeClaimsWithTheLeeway() throws {
        let claims: [String: JSONValue] = ["exp": .number(1_700_000_600.5), "nbf": .integer(1_700_000_000)]
        let token = VerifiedToken(header: [:], claims: claims, issuer: "i", subject: "s", tokenId: nil, algorithm: .rs256)
        let window = try #require(VerifiedTokens.window(of: token, leeway: .seconds(60)))
        #expect(window.from == 1_699_999_940_000)
        #expect(window.until == 1_700_000_660_500)
        let noNotBefore = VerifiedToken(header: [:], claims: ["exp": .integer(10)], issuer: "i", subject: "s", tokenId: nil, algorithm: .rs256)
        #expect(try #require(VerifiedTokens.window(of: noNotBefore, leeway: .zero)).from < 0)
    }
}
