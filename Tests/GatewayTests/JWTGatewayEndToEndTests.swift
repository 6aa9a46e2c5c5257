import Foundation
import HTTP
import JSON
import JWTTestSupport
import Synchronization
import RoktSandbox
import Testing
@testable import Gateway

/// A dashboard user's JWT through the whole gateway: AUTH_* configured, the issuer's JWK Set
/// served over TLS on loopback, tokens minted by PyJWT, the real sandbox behind.
@Suite struct JWTGatewayEndToEndTests {
    static let m1 = SandboxDemo.merchant1, m2 = SandboxDemo.merchant2
    static let issuer = JWTAuthenticatorTests.issuer
    /// Minted once per process against the wall clock: the gateway verifies with its real clock.
    static let now = Int(Date().timeIntervalSince1970)

    static func claims(_ extra: [String: JSONValue]) -> [String: JSONValue] {
        [
            "iss": .string(issuer), "aud": .string("rokt-gateway"), "sub": .string("dana"), "jti": .string("jti-dana-1"),
            "iat": .integer(now), "exp": .integer(now + 3600), "scope": .string("read"), "merchant_ids": .array([.string(m1)]),
        ].merging(extra) { $1 }
    }

    static let specs = [
        TokenSpec("reader", alg: "RS256", kid: "rsa-1", claims: claims([:])),
        TokenSpec("writer", alg: "ES256", kid: "ec-1", claims: claims(["sub": .string("erin"), "scope": .string("read write")])),
        TokenSpec("expired", alg: "RS256", kid: "rsa-1", claims: claims(["exp": .integer(now - 3600)])),
        TokenSpec("not yet valid", alg: "RS256", kid: "rsa-1", claims: claims(["nbf": .integer(now + 3600)])),
        TokenSpec("other audience", alg: "RS256", kid: "rsa-1", claims: claims(["aud": .string("another-api")])),
        TokenSpec("none", alg: "none", kid: "rsa-1", claims: claims([:]), mode: .none),
        TokenSpec("hmac with the RSA key", alg: "HS256", kid: "rsa-1", claims: claims([:]), mode: .hmacWithPublicPEM),
        TokenSpec("tampered", alg: "RS256", kid: "rsa-1", claims: claims([:]), mode: .tamperedPayload),
        TokenSpec("rotated in", alg: "PS256", kid: "rsa-2", claims: claims(["sub": .string("finn")])),
    ]

    private static let minting = MintOnce(specs)

    static func minted() async throws -> MintedTokens { try await minting.tokens() }

    private func withGatewayAndIssuer(
        _ body: (GatewayHarness, MintedTokens, JWTAuthenticatorTests.JWKSServer, _ log: () -> String) async throws -> Void
    ) async throws {
        let minted = try await Self.minted()
        let issuer = try JWTAuthenticatorTests.JWKSServer(minted, body: minted.keySet(["rsa-1", "ec-1"]))
        var auth = JWTAuthenticatorTests.configuration(.url(issuer.url, additionalCAFile: minted.caFile))
        auth.merchantsClaim = "merchant_ids"
        let lines = Mutex<[String]>([])
        do {
            try await withGateway(logSink: { line in lines.withLock { $0.append(line) } }, configure: { $0.auth = auth }) { gateway in
                try await body(gateway, minted, issuer) { lines.withLock { $0.joined(separator: "\n") } }
                // Tokens are never logged, accepted or not.
                let log = lines.withLock { $0.joined(separator: "\n") }
                for spec in Self.specs { #expect(!log.contains(minted[spec.name]), "\(spec.name)") }
            }
        } catch {
            await issuer.server.shutdown()
            throw error
        }
        await issuer.server.shutdown()
    }

    @Test func aUsersTokenDoesWhatItsClaimsAllowAndNothingMore() async throws {
        try await withGatewayAndIssuer { gateway, minted, _, log in
            let read = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: minted["reader"])
            #expect(read.status == 200, "\(read.text)")
            #expect(read.headers["RateLimit-Policy"] == "\"read\";q=100;w=2")

            let callsBefore = gateway.upstream().count
            let otherMerchant = try await gateway.call(.get, "/v1/merchants/\(Self.m2)/status", key: minted["reader"])
            #expect(otherMerchant.status == 403)
            let write = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause", json: "{}", key: minted["reader"])
            #expect(write.status == 403)
            #expect(write.headers["WWW-Authenticate"]?.contains("error=\"insufficient_scope\"") == true)
            #expect(gateway.upstream().count == callsBefore, "refused before Rokt is called")

            let listed = try await gateway.call(.get, "/v1/merchants", key: minted["reader"])
            #expect(listed.status == 200)
            let ids = listed["data"]?.arrayValue?.compactMap { $0["accountId"]?.stringValue } ?? []
            #expect(ids == [Self.m1], "\(listed.text)")
            // The access log names the user by `sub` and `jti`.
            #expect(log().contains("\"user_sub\":\"dana\"") && log().contains("\"token_id\":\"jti-dana-1\""), "\(log())")
        }
    }

    @Test func refusedTokensGetABearerChallengeNamingWhy() async throws {
        try await withGatewayAndIssuer { gateway, minted, _, _ in
            let expected = [
                "expired": "expired", "not yet valid": "not valid yet", "other audience": "audience",
                "none": "algorithm is not accepted", "hmac with the RSA key": "does not match its key", "tampered": "signature is invalid",
            ]
            for (name, phrase) in expected {
                let refused = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: minted[name])
                #expect(refused.status == 401, "\(name)")
                let challenge = refused.headers["WWW-Authenticate"] ?? ""
                #expect(challenge.hasPrefix("Bearer realm=\"rokt-gateway\", error=\"invalid_token\""), "\(name): \(challenge)")
                #expect(challenge.contains(phrase), "\(name): \(challenge)")
                #expect(refused["code"]?.stringValue == "unauthenticated")
            }
        }
    }

    @Test func aKeyRotatedInAtTheIssuerIsAcceptedOnItsFirstToken() async throws {
        try await withGatewayAndIssuer { gateway, minted, issuer, _ in
            let fetches = issuer.fetchCount
            issuer.serve { $0.body = minted.keySet(["rsa-1", "ec-1", "rsa-2"]) }
            let rotated = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: minted["rotated in"])
            #expect(rotated.status == 200, "\(rotated.text)")
            #expect(issuer.fetchCount == fetches + 1)
        }
    }

    /// An issuer unreachable at start: the gateway serves API keys, refuses tokens, and says so on
    /// `/readyz` (degraded, still ready).
    @Test func anIssuerDownAtStartLeavesTheGatewayReadyButDegraded() async throws {
        let minted = try await Self.minted()
        let unreachable = try JWTAuthenticatorTests.JWKSServer(minted, body: [])
        let url = unreachable.url
        await unreachable.server.shutdown()
        try await withGateway(configure: { $0.auth = JWTAuthenticatorTests.configuration(.url(url, additionalCAFile: minted.caFile)) }) { gateway in
            let ready = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(ready.status == 200)
            #expect(ready["degraded"] == .bool(true))
            #expect(ready["tokens"]?.stringValue?.hasPrefix("no key to verify tokens with") == true, "\(ready.text)")
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status").status == 200)
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: minted["reader"]).status == 401)
        }
        try await withGatewayAndIssuer { gateway, _, _, _ in
            let ready = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(ready.text == #"{"status":"ready"}"#)
        }
    }

    @Test func aUsersWritesAreTheirOwnAndLimitedPerUser() async throws {
        try await withGatewayAndIssuer { gateway, minted, _, _ in
            var headers = HTTPHeaders()
            headers["Idempotency-Key"] = "dashboard-click-1"
            let paused = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause", json: "{}", key: minted["writer"], headers: headers)
            #expect([200, 202].contains(paused.status), "\(paused.text)")
            #expect(paused.headers["RateLimit-Policy"] == "\"write\";q=50;w=5")
            let operation = try #require(paused["id"]?.stringValue, "\(paused.text)")
            // The admin key is another caller: the user's Idempotency-Key is not its.
            let admin = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause", json: "{}", headers: headers)
            #expect([200, 202].contains(admin.status) && admin["id"]?.stringValue != operation, "\(admin.text)")
        }
    }
}
