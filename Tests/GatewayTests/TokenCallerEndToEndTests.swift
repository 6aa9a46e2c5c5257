import Foundation
import HTTP
import JSON
import RoktSandbox
import Synchronization
import Testing
@testable import Gateway

/// Users proven by bearer tokens, through the real gateway and sandbox, with a scripted
/// `TokenAuthenticator` in place of the JWT verifier (whose own tests use real tokens): the
/// credential's form picks the verifier, an unknown signing key costs one refresh, and a user's
/// scopes and merchants are enforced as a key's are.
@Suite struct TokenCallerEndToEndTests {
    static let m1 = SandboxDemo.merchant1, m2 = SandboxDemo.merchant2
    static let issuer = "https://idp.example.com/"

    static func user(_ subject: String, _ scopes: Set<Scope>, merchants: Set<String>? = nil) -> TokenPrincipal {
        TokenPrincipal(issuer: issuer, subject: subject, tokenId: "jti-\(subject)", scopes: scopes, merchants: merchants)
    }

    @Test func theCredentialsFormPicksWhoChecksIt() async throws {
        let tokens = ScriptedTokens(["token-reader": Self.user("reader", [.read])])
        try await withGateway(tokens: tokens) { gateway in
            let (_, publishable) = try await gateway.makePublishableKey(origins: ["https://shop.example.com"])
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status").status == 200)
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "token-reader").status == 200)
            let refusedKey = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "rgw_not_a_key")
            #expect(refusedKey.headers["WWW-Authenticate"]?.contains("the API key is unknown or revoked") == true)
            #expect(try await gateway.call(.get, "/v1/merchants", key: publishable, headers: ["Origin": "https://shop.example.com"]).status == 403)
            let forged = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "token-forged")
            #expect(forged.status == 401 && forged["code"]?.stringValue == "unauthenticated")
            #expect(
                forged.headers["WWW-Authenticate"]
                    == #"Bearer realm="rokt-gateway", error="invalid_token", error_description="the signature does not verify""#)
            // Keys never reach the token verifier.
            #expect(tokens.checked.allSatisfy { !$0.hasPrefix("rgw_") && !$0.hasPrefix("pk_") })
            #expect(Set(tokens.checked) == ["token-reader", "token-forged"])
        }
        // Without a verifier, only keys are accepted.
        try await withGateway { gateway in
            let refused = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "token-reader")
            #expect(refused.status == 401)
            #expect(refused.headers["WWW-Authenticate"]?.contains(#"error="invalid_token""#) == true)
        }
    }

    @Test func aTokenSignedWithANewKeyIsAcceptedAfterOneRefresh() async throws {
        let tokens = ScriptedTokens([:], afterRefresh: ["token-rotated": Self.user("writer", [.read, .write])])
        try await withGateway(tokens: tokens) { gateway in
            // A write with a body: the head check cannot wait for the refresh, so it leaves the request to the handler.
            let paused = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause", json: "{}", key: "token-rotated")
            #expect(paused.status == 200, "\(paused.text)")
            #expect(tokens.refreshes == 1)
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "token-rotated").status == 200)
            #expect(tokens.refreshes == 1)
            // A key the issuer still does not publish after the refresh: refused, after one refresh.
            let unknown = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status", key: "token-unknown-kid")
            #expect(unknown.status == 401)
            #expect(unknown.headers["WWW-Authenticate"]?.contains(#"error="invalid_token""#) == true)
            #expect(tokens.refreshes == 2)
        }
    }

    @Test func aUsersScopesAndMerchantsAreEnforcedBeforeTheStoreOrRokt() async throws {
        let tokens = ScriptedTokens([
            "token-m1-reader": Self.user("m1-reader", [.read], merchants: [Self.m1]),
            "token-m1-writer": Self.user("m1-writer", [.read, .write, .webhooks], merchants: [Self.m1]),
        ])
        try await withGateway(tokens: tokens) { gateway in
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/controls", key: "token-m1-reader").status == 200)
            gateway.sandbox.resetRequestLog()
            let otherMerchant = try await gateway.call(.get, "/v1/merchants/\(Self.m2)/controls", key: "token-m1-reader")
            #expect(otherMerchant.status == 403 && otherMerchant.headers["WWW-Authenticate"] == nil)
            #expect(otherMerchant["detail"]?.stringValue == "This token may not act on merchant \(Self.m2).")
            let write = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause", json: "{}", key: "token-m1-reader")
            #expect(write.status == 403)
            #expect(write.headers["WWW-Authenticate"] == #"Bearer realm="rokt-gateway", error="insufficient_scope", scope="write""#)
            let writeElsewhere = try await gateway.call(.post, "/v1/merchants/\(Self.m2)/pause", json: "{}", key: "token-m1-writer")
            #expect(writeElsewhere.status == 403)
            // Endpoints for callers who may see every merchant refuse a user limited to some.
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints", key: "token-m1-writer").status == 403)
            #expect(
                try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"t-1","name":"Shop"}"#, key: "token-m1-writer").status
                    == 403)
            #expect(try await gateway.call(.get, "/v1/operations?merchantId=\(Self.m2)", key: "token-m1-writer").status == 403)
            #expect(gateway.sandbox.requestLog.isEmpty)
            #expect(try await gateway.call(.get, "/v1/operations")["data"]?.array?.isEmpty == true)
        }
    }

    @Test func idempotencyKeysBelongToOneUser() async throws {
        let logs = LogCapture()
        let tokens = ScriptedTokens([
            "token-alice": Self.user("alice", [.read, .write]), "token-bob": Self.user("bob", [.read, .write]),
        ])
        try await withGateway(logSink: logs.sink, tokens: tokens) { gateway in
            let path = "/v1/merchants/\(Self.m1)/controls/blocked-domains"
            func add(_ domain: String, as token: String) async throws -> TestResponse {
                try await gateway.call(.post, path, json: #"{"domain":"\#(domain)"}"#, key: token, headers: ["Idempotency-Key": "shared-key"])
            }
            let alice = try await add("alice.example.com", as: "token-alice")
            #expect(alice.status == 200 && alice.headers["Idempotent-Replayed"] == nil)
            // Bob's request under the same Idempotency-Key is his own: it runs, neither replayed nor 422.
            let bob = try await add("bob.example.com", as: "token-bob")
            #expect(bob.status == 200 && bob.headers["Idempotent-Replayed"] == nil)
            #expect(bob["id"] != alice["id"])
            let replay = try await add("alice.example.com", as: "token-alice")
            #expect(replay.headers["Idempotent-Replayed"] == "true" && replay["id"] == alice["id"])
            #expect(try await add("carol.example.com", as: "token-alice").status == 422)
        }
        // The access log names the user and the token's id, never the token.
        let lines = logs.all.filter { $0.contains(#""msg":"request""#) || $0.contains(#""request""#) }
        #expect(lines.contains { $0.contains(#""user_sub":"alice""#) && $0.contains(#""token_id":"jti-alice""#) })
        #expect(!logs.all.contains { $0.contains("token-alice") || $0.contains("token-bob") })
    }
}

/// Stands in for the JWT verifier: a token is valid when listed; one listed in `afterRefresh` is
/// signed with a key not yet fetched (`.unknownKey`) until `refreshForUnknownKey` runs.
final class ScriptedTokens: TokenAuthenticator {
    private struct State {
        var valid: [String: TokenPrincipal]
        var afterRefresh: [String: TokenPrincipal]
        var checked: [String] = []
        var refreshes = 0
    }
    private let state: Mutex<State>

    init(_ valid: [String: TokenPrincipal], afterRefresh: [String: TokenPrincipal] = [:]) {
        state = Mutex(State(valid: valid, afterRefresh: afterRefresh))
    }

    var checked: [String] { state.withLock { $0.checked } }
    var refreshes: Int { state.withLock { $0.refreshes } }

    func check(_ token: String) -> TokenCheck {
        state.withLock { state in
            state.checked.append(token)
            if let user = state.valid[token] { return .valid(user) }
            if state.afterRefresh[token] != nil || token.hasSuffix("-unknown-kid") { return .unknownKey }
            return .invalid(reason: "the signature does not verify")
        }
    }

    func refreshForUnknownKey() async {
        state.withLock { state in
            state.refreshes += 1
            state.valid.merge(state.afterRefresh) { $1 }
            state.afterRefresh = [:]
        }
    }
}
