import Foundation
import HTTP
import JSON
import JWT
import JWTTestSupport
import Synchronization
import Testing
@testable import Gateway

/// `JWTAuthenticator` against a JWKS served over TLS on loopback, with tokens minted by PyJWT.
@Suite struct JWTAuthenticatorTests {
    static let issuer = "https://issuer.example"
    static let now = 1_790_000_000

    static func claims(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        [
            "iss": .string(issuer), "aud": .string("rokt-gateway"), "sub": .string("user-7"), "jti": .string("jti-7"),
            "exp": .integer(now + 600), "scope": .string("read write"),
        ].merging(extra) { $1 }
    }

    static let specs = [
        TokenSpec("rsa-1", alg: "RS256", kid: "rsa-1", claims: claims(["merchant_ids": .array([.string("m1"), .string("m2")])])),
        TokenSpec("rsa-2", alg: "PS256", kid: "rsa-2", claims: claims()),
        TokenSpec("all merchants", alg: "ES256", kid: "ec-1", claims: claims(["https://partner.example/merchants": .string("*")])),
        TokenSpec("expired", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .integer(now - 120)])),
        TokenSpec("HS256", alg: "HS256", kid: nil, claims: claims(["merchant_ids": .string("m9")])),
    ]

    private static let minting = MintOnce(specs)

    static func minted() async throws -> MintedTokens { try await minting.tokens() }

    /// An issuer's JWKS endpoint over TLS: what it answers can change between fetches.
    final class JWKSServer: Sendable {
        struct Reply {
            var status = 200
            var body: [UInt8]
            var cacheControl: String? = "max-age=300"
        }

        /// What the handler reads, apart from the server that runs it.
        final class Script: Sendable {
            let reply: Mutex<Reply>
            let fetches = Atomic<Int>(0)
            init(_ reply: Reply) { self.reply = Mutex(reply) }
        }

        let script: Script
        let server: HTTPServer
        let port: Int

        init(_ minted: MintedTokens, body: [UInt8]) throws {
            let script = Script(Reply(body: body))
            var router = Router()
            router.get("/jwks") { _ in
                script.fetches.add(1, ordering: .relaxed)
                let current = script.reply.withLock { $0 }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                if let cacheControl = current.cacheControl { headers.add(name: "Cache-Control", value: cacheControl) }
                return HTTPResponse(status: HTTPStatus(code: current.status), headers: headers, body: current.body)
            }
            var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
            configuration.tls = .server(certificateChainFile: minted.serverCertificateFile, privateKeyFile: minted.serverKeyFile)
            server = try HTTPServer(configuration: configuration, router: router)
            port = try server.start()
            self.script = script
        }

        var url: String { "https://127.0.0.1:\(port)/jwks" }
        var fetchCount: Int { script.fetches.load(ordering: .relaxed) }
        func serve(_ change: (inout Reply) -> Void) { script.reply.withLock { change(&$0) } }
    }

    static func configuration(_ source: JWTConfiguration.KeySource) -> JWTConfiguration {
        var configuration = JWTConfiguration(policy: TokenPolicy(issuer: issuer, audience: "rokt-gateway"), keySource: source)
        configuration.merchantsClaim = "merchant_ids"
        // A ceiling only a broken run reaches: a loaded test machine must not fail a fetch by time.
        configuration.fetchTimeout = .seconds(60)
        return configuration
    }

    static let logger = Logger(level: .error, sink: { _ in })

    private func withIssuer(serving kids: [String], _ body: (MintedTokens, JWKSServer, JWTAuthenticator, ManualWallClock) async throws -> Void) async throws {
        let minted = try await Self.minted()
        let server = try JWKSServer(minted, body: minted.keySet(kids))
        let clock = ManualWallClock(Int64(Self.now) * 1000)
        let authenticator = await JWTAuthenticator.start(
            configuration: Self.configuration(.url(server.url, additionalCAFile: minted.caFile)), clock: clock, logger: Self.logger)
        do { try await body(minted, server, authenticator, clock) } catch {
            await authenticator.stop()
            await server.server.shutdown()
            throw error
        }
        await authenticator.stop()
        await server.server.shutdown()
    }

    @Test func tokensVerifyAgainstTheFetchedSetAndBecomePrincipals() async throws {
        try await withIssuer(serving: ["rsa-1", "ec-1"]) { minted, server, authenticator, _ in
            #expect(server.fetchCount == 1)
            #expect(authenticator.keyStatus == .init(keys: 2, lastError: nil))
            let principal = TokenPrincipal(issuer: Self.issuer, subject: "user-7", tokenId: "jti-7", scopes: [.read, .write], merchants: ["m1", "m2"])
            #expect(authenticator.check(minted["rsa-1"]) == .valid(principal))
            #expect(authenticator.check(minted["expired"]) == .invalid(reason: "the token expired"))
            // `*` is only a value here: AUTH_ALL_MERCHANTS_VALUE is not set, and the claim is another.
            guard case .valid(let other) = authenticator.check(minted["all merchants"]) else { Issue.record("refused"); return }
            #expect(other.merchants == [])
        }
    }

    @Test func cacheControlSetsWhenTheSetIsFetchedAgain() async throws {
        try await withIssuer(serving: ["rsa-1"]) { _, server, authenticator, _ in
            let remote = try #require(authenticator.remote)
            server.serve { $0.cacheControl = "public, max-age=120" }
            #expect(await remote.refresh() == .loaded(maxAge: .seconds(120)))
            server.serve { $0.cacheControl = nil }
            #expect(await remote.refresh() == .loaded(maxAge: .seconds(600)))
            #expect(server.fetchCount == 3)
        }
    }

    /// The issuer rotates a key in: the first token with the new kid triggers one fetch, and
    /// further unknown kids within 30 s fetch nothing.
    @Test func unknownKidRefetchesAtMostEveryThirtySeconds() async throws {
        try await withIssuer(serving: ["rsa-1"]) { minted, server, authenticator, clock in
            #expect(authenticator.check(minted["rsa-2"]) == .unknownKey)
            await authenticator.refreshForUnknownKey()
            #expect(server.fetchCount == 2)
            #expect(authenticator.check(minted["rsa-2"]) == .unknownKey)
            // Rotated in now, but the last unknown-kid fetch was under 30 s ago.
            server.serve { $0.body = minted.keySet(["rsa-1", "rsa-2"]) }
            clock.advance(by: .seconds(29))
            await authenticator.refreshForUnknownKey()
            #expect(server.fetchCount == 2)
            #expect(authenticator.check(minted["rsa-2"]) == .unknownKey)
            clock.advance(by: .seconds(1))
            await authenticator.refreshForUnknownKey()
            #expect(server.fetchCount == 3)
            guard case .valid(let principal) = authenticator.check(minted["rsa-2"]) else { Issue.record("still refused"); return }
            #expect(principal.subject == "user-7")
        }
    }

    @Test func concurrentUnknownKidsFetchOnce() async throws {
        try await withIssuer(serving: ["rsa-1"]) { _, server, authenticator, _ in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { await authenticator.refreshForUnknownKey() } }
            }
            #expect(server.fetchCount == 2)
        }
    }

    @Test func theLastGoodSetServesWhileTheIssuerIsDown() async throws {
        try await withIssuer(serving: ["rsa-1"]) { minted, server, authenticator, _ in
            let remote = try #require(authenticator.remote)
            for reply in [
                JWKSServer.Reply(status: 503, body: []), JWKSServer.Reply(body: Array("{}".utf8)), JWKSServer.Reply(body: minted.keySet(["rsa-1024"])),
                JWKSServer.Reply(body: [UInt8](repeating: 0x20, count: JWKSRemote.maxResponseBytes + 1)),
            ] {
                server.serve { $0 = reply }
                guard case .failed = await remote.refresh() else { Issue.record("\(reply.status) was taken"); continue }
                #expect(authenticator.keyStatus.keys == 1)
                #expect(authenticator.keyStatus.lastError != nil)
                guard case .valid = authenticator.check(minted["rsa-1"]) else { Issue.record("the kept key no longer serves"); return }
            }
            server.serve { $0 = JWKSServer.Reply(body: minted.keySet(["rsa-1"])) }
            #expect(await remote.refresh() == .loaded(maxAge: .seconds(300)))
            #expect(authenticator.keyStatus == .init(keys: 1, lastError: nil))
        }
    }

    /// An issuer unreachable at boot, or not trusted: start returns, tokens are refused, `keyStatus` says why.
    @Test func startsWithoutKeysWhenTheIssuerIsUnreachableOrUntrusted() async throws {
        let minted = try await Self.minted()
        let server = try JWKSServer(minted, body: minted.keySet(["rsa-1"]))
        // Without AUTH_JWKS_CA_FILE the test CA is unknown: the TLS handshake fails.
        let untrusted = await JWTAuthenticator.start(
            configuration: Self.configuration(.url(server.url, additionalCAFile: nil)), clock: ManualWallClock(Int64(Self.now) * 1000), logger: Self.logger)
        #expect(untrusted.keyStatus.keys == 0)
        #expect(untrusted.keyStatus.lastError?.contains("certificate") == true)
        await untrusted.stop()
        let url = server.url
        await server.server.shutdown()
        let authenticator = await JWTAuthenticator.start(
            configuration: Self.configuration(.url(url, additionalCAFile: minted.caFile)), clock: ManualWallClock(Int64(Self.now) * 1000), logger: Self.logger)
        #expect(authenticator.keyStatus.keys == 0)
        #expect(authenticator.keyStatus.lastError != nil)
        #expect(authenticator.check(minted["rsa-1"]) == .unknownKey)
        await authenticator.stop()
    }

    @Test func aKeySetFileIsReloadedWhenItChanges() async throws {
        let minted = try await Self.minted()
        let scratch = try SecretVariableTests.Scratch()
        let path = scratch.file(minted.keySet(["rsa-1"]), "jwks.json")
        let authenticator = await JWTAuthenticator.start(configuration: Self.configuration(.file(path)), clock: ManualWallClock(Int64(Self.now) * 1000), logger: Self.logger)
        try await Self.reloads(authenticator, minted, scratch)
        await authenticator.stop()
    }

    private static func reloads(_ authenticator: JWTAuthenticator, _ minted: MintedTokens, _ scratch: SecretVariableTests.Scratch) async throws {
        let file = try #require(authenticator.file)
        guard case .valid = authenticator.check(minted["rsa-1"]) else { Issue.record("refused"); return }
        // A file source cannot learn keys by fetching: an unknown kid is refused at once.
        #expect(authenticator.check(minted["rsa-2"]) == .invalid(reason: "the token's signing key is unknown"))
        #expect(!file.reloadIfChanged())
        _ = scratch.file(minted.keySet(["rsa-1", "rsa-2"]), "jwks.json")
        #expect(file.reloadIfChanged())
        guard case .valid = authenticator.check(minted["rsa-2"]) else { Issue.record("the new key does not serve"); return }
        // A broken file keeps the keys loaded before it.
        _ = scratch.file("{\"keys\": ", "jwks.json")
        #expect(!file.reloadIfChanged())
        guard case .valid = authenticator.check(minted["rsa-2"]) else { Issue.record("the kept key no longer serves"); return }
    }

    /// A verified token is remembered, but never beyond its `exp` (plus the leeway), and never
    /// once the key set changed: a key taken out of the set stops its tokens at once.
    @Test func aRememberedTokenStillExpiresAndIsVerifiedAgainUnderNewKeys() async throws {
        let minted = try await Self.minted()
        let scratch = try SecretVariableTests.Scratch()
        let path = scratch.file(minted.keySet(["rsa-1", "rsa-2"]), "jwks.json")
        let clock = ManualWallClock(Int64(Self.now) * 1000)
        let authenticator = await JWTAuthenticator.start(configuration: Self.configuration(.file(path)), clock: clock, logger: Self.logger)
        let file = try #require(authenticator.file)
        for _ in 0..<3 {
            guard case .valid = authenticator.check(minted["rsa-1"]) else { Issue.record("refused"); return }
            guard case .valid = authenticator.check(minted["rsa-2"]) else { Issue.record("refused"); return }
        }
        _ = scratch.file(minted.keySet(["rsa-2"]), "jwks.json")
        #expect(file.reloadIfChanged())
        #expect(authenticator.check(minted["rsa-1"]) == .invalid(reason: "the token's signing key is unknown"))
        guard case .valid = authenticator.check(minted["rsa-2"]) else { Issue.record("refused"); return }
        // `exp` is now + 600 s and the leeway 60 s.
        clock.advance(by: .seconds(659))
        guard case .valid = authenticator.check(minted["rsa-2"]) else { Issue.record("refused within the leeway"); return }
        clock.advance(by: .seconds(1))
        #expect(authenticator.check(minted["rsa-2"]) == .invalid(reason: "the token expired"))
        await authenticator.stop()
    }

    @Test func aSharedSecretVerifiesHS256AndNothingElse() async throws {
        let minted = try await Self.minted()
        var configuration = Self.configuration(.sharedSecret(Array(minted.hs256Secret.utf8)))
        configuration.allMerchantsValue = "*"
        let authenticator = await JWTAuthenticator.start(configuration: configuration, clock: ManualWallClock(Int64(Self.now) * 1000), logger: Self.logger)
        guard case .valid(let principal) = authenticator.check(minted["HS256"]) else { Issue.record("refused"); return }
        #expect(principal.merchants == ["m9"])
        #expect(authenticator.check(minted["rsa-1"]) == .invalid(reason: "the token's algorithm does not match its key"))
        await authenticator.stop()
    }

    @Test func theAllMerchantsValueFromANamespacedClaim() async throws {
        let minted = try await Self.minted()
        let scratch = try SecretVariableTests.Scratch()
        var configuration = Self.configuration(.file(scratch.file(minted.keySet(["ec-1"]), "jwks.json")))
        configuration.merchantsClaim = "https://partner.example/merchants"
        configuration.allMerchantsValue = "*"
        let authenticator = await JWTAuthenticator.start(configuration: configuration, clock: ManualWallClock(Int64(Self.now) * 1000), logger: Self.logger)
        guard case .valid(let principal) = authenticator.check(minted["all merchants"]) else { Issue.record("refused"); return }
        #expect(principal.merchants == nil)
        await authenticator.stop()
    }
}
