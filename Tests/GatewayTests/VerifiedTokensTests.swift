import JSON
@testable import JWT
import Testing
@testable import Gateway

@Suite struct VerifiedTokensTests {
    static let principal = TokenPrincipal(issuer: "https://idp.example", subject: "dana", tokenId: "j1", scopes: [.read], merchants: nil)

    static func entry(from: Int64 = 1_000, until: Int64 = 2_000, generation: Int = 1) -> VerifiedTokens.Entry {
        VerifiedTokens.Entry(principal: principal, validFrom: from, validUntil: until, keyGeneration: generation)
    }

    @Test func anEntryServesOnlyInsideItsWindowAndUnderItsKeys() {
        var cache = VerifiedTokens()
        let key = VerifiedTokens.key("a.b.c")
        cache.insert(key, Self.entry())
        #expect(cache.lookup(key, nowMillis: 999, keyGeneration: 1) == nil)
        #expect(cache.lookup(key, nowMillis: 1_000, keyGeneration: 1)?.principal == Self.principal)
        #expect(cache.lookup(key, nowMillis: 1_999, keyGeneration: 1) != nil)
        #expect(cache.lookup(key, nowMillis: 2_000, keyGeneration: 1) == nil)
        #expect(cache.lookup(key, nowMillis: 1_500, keyGeneration: 2) == nil)
        #expect(cache.lookup(VerifiedTokens.key("a.b.d"), nowMillis: 1_500, keyGeneration: 1) == nil)
    }

    @Test func aFullCacheStartsOverAndNeverHoldsMoreThanItsCapacity() {
        var cache = VerifiedTokens(capacity: 3)
        for index in 0..<10 {
            cache.insert(VerifiedTokens.key("token-\(index)"), Self.entry())
            #expect(cache.count <= 3)
        }
        #expect(cache.lookup(VerifiedTokens.key("token-9"), nowMillis: 1_500, keyGeneration: 1) != nil)
        // Replacing an entry already held never empties the cache.
        cache.insert(VerifiedTokens.key("token-9"), Self.entry())
        #expect(cache.count == 1)
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
