import Foundation
import HTTP
import JSON
import RoktSandbox
import Testing
@testable import Gateway

/// Publishable keys (`pk_`) against the real gateway and sandbox: placements only, from their
/// origins only, answered to browsers through CORS; and the RFC 6750 challenges of refused keys.
@Suite struct PublishableKeyEndToEndTests {
    static let path = PlacementsEndToEndTests.path
    static let body = PlacementsEndToEndTests.body
    static let shop = "https://shop.example.com"

    static func placements(_ gateway: GatewayHarness, key: String, origin: String?) async throws -> TestResponse {
        try await gateway.call(.post, path, json: body, key: key, headers: origin.map { ["Origin": $0] } ?? HTTPHeaders())
    }

    @Test func aPublishableKeyGetsPlacementsFromItsOriginsAndNothingElse() async throws {
        let logs = LogCapture()
        var keyId = "", key = ""
        try await withGateway(logSink: logs.sink, configure: { $0.placementsTimeout = PlacementsEndToEndTests.ample }) { gateway in
            (keyId, key) = try await gateway.makePublishableKey(origins: [Self.shop, "http://localhost:3000"])
            #expect(key.hasPrefix("pk_"))
            gateway.sandbox.resetRequestLog()

            let answered = try await Self.placements(gateway, key: key, origin: Self.shop)
            #expect(answered.status == 200 && answered.text == #"{"result":true}"#)
            // CORS_ALLOWED_ORIGINS is empty: the key's origin alone lets the page read the answer.
            #expect(answered.headers["Access-Control-Allow-Origin"] == Self.shop)
            #expect(try await Self.placements(gateway, key: key, origin: "http://localhost:3000").status == 200)

            for origin in ["https://evil.example.com", nil] {
                let refused = try await Self.placements(gateway, key: key, origin: origin)
                #expect(refused.status == 403 && refused["code"]?.stringValue == "forbidden", "\(origin ?? "no origin")")
                #expect(refused.headers["Access-Control-Allow-Origin"] == nil)
                #expect(refused.headers["WWW-Authenticate"] == nil)
                #expect(!refused.text.contains(key) && !refused.text.contains("evil"))
            }
            let otherRoutes: [(HTTPMethod, String, String?)] = [
                (.get, "/v1/merchants", nil), (.get, "/v1/merchants/\(SandboxDemo.merchant1)/controls", nil),
                (.get, "/v1/operations", nil), (.post, "/v1/merchants/\(SandboxDemo.merchant1)/pause", "{}"),
                (.post, "/v1/webhook-endpoints", #"{"url":"https://hooks.example.com/x"}"#),
            ]
            for (method, path, json) in otherRoutes {
                let refused = try await gateway.call(method, path, json: json, key: key, headers: ["Origin": Self.shop])
                #expect(refused.status == 403 && refused["code"]?.stringValue == "forbidden", "\(method) \(path)")
                #expect(refused["detail"]?.stringValue?.contains("placements") == true, "\(method) \(path)")
            }
            // Only the two placements reached Rokt; nothing was stored for the refusals.
            #expect(gateway.upstream().count == 2)
            #expect(try await gateway.call(.get, "/v1/operations")["data"]?.array?.isEmpty == true)
        }
        // The access log names the key by its id, refusals included, and never shows its material.
        let placementsLines = logs.all.filter { $0.contains(#""route":"/v1/placements/any""#) }
        #expect(placementsLines.count == 4 && placementsLines.allSatisfy { $0.contains(#""api_key_id":"\#(keyId)""#) })
        #expect(!logs.all.contains { $0.contains(key) })
    }

    @Test func aRevokedPublishableKeyIsUnknownAndItsOriginLosesCORS() async throws {
        try await withGateway(configure: { $0.placementsTimeout = PlacementsEndToEndTests.ample }) { gateway in
            let (id, key) = try await gateway.makePublishableKey(origins: [Self.shop])
            let preflight: HTTPHeaders = ["Origin": Self.shop, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"]
            let allowed = try await gateway.call(.options, Self.path, anonymous: true, headers: preflight)
            #expect(allowed.status == 204 && allowed.headers["Access-Control-Allow-Origin"] == Self.shop)
            #expect(allowed.headers["Access-Control-Allow-Headers"]?.contains("Authorization") == true)
            // The preflight of any other route is not widened by the key.
            #expect(try await gateway.call(.options, "/v1/merchants", anonymous: true, headers: preflight).status == 405)

            #expect(try await ApiKeyService(store: gateway.store, clock: gateway.services.clock).revoke(id: id))
            try await gateway.services.keyRing.refresh()
            let refused = try await Self.placements(gateway, key: key, origin: Self.shop)
            #expect(refused.status == 401 && refused["code"]?.stringValue == "unauthenticated")
            #expect(refused.headers["WWW-Authenticate"]?.hasPrefix(#"Bearer realm="rokt-gateway", error="invalid_token""#) == true)
            #expect(try await gateway.call(.options, Self.path, anonymous: true, headers: preflight).status == 405)
        }
    }

    @Test func withCORSConfiguredPlacementsAddsThePublishableOriginsOnly() async throws {
        try await withGateway(configure: { $0.cors = CORSPolicy(allowedOrigins: ["https://admin.example.com"]) }) { gateway in
            _ = try await gateway.makePublishableKey(origins: [Self.shop])
            func preflight(_ path: String, from origin: String) async throws -> Int {
                try await gateway.call(.options, path, anonymous: true, headers: ["Origin": origin, "Access-Control-Request-Method": "POST"]).status
            }
            #expect(try await preflight(Self.path, from: Self.shop) == 204)
            #expect(try await preflight(Self.path, from: "https://admin.example.com") == 204)
            #expect(try await preflight(Self.path, from: "https://evil.example.com") == 403)
            #expect(try await preflight("/v1/merchants", from: Self.shop) == 403)
            #expect(try await preflight("/v1/merchants", from: "https://admin.example.com") == 204)
        }
    }

    /// RFC 6750 §3 for API keys, from the head (a write with a body) and from the handler (a read).
    @Test func refusedKeysGetBearerChallenges() async throws {
        try await withGateway(configure: { $0.cors = CORSPolicy(allowedOrigins: [Self.shop]) }) { gateway in
            let readKey = try await gateway.makeKey([.read])
            let elsewhere = try await gateway.makeKey([.read, .write], merchants: ["acct_someone_else"])
            let realm = #"Bearer realm="rokt-gateway""#
            let routes: [(HTTPMethod, String, String?)] = [
                (.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains", #"{"domain":"a.example"}"#),
                (.delete, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains/a.example", nil),
            ]
            for (method, path, json) in routes {
                func call(_ key: String?) async throws -> TestResponse {
                    try await gateway.call(method, path, json: json, key: key, anonymous: key == nil, headers: ["Origin": Self.shop])
                }
                let missing = try await call(nil)
                #expect(missing.status == 401 && missing.headers["WWW-Authenticate"] == realm, "\(method)")
                #expect(missing.headers["Access-Control-Expose-Headers"]?.contains("WWW-Authenticate") == true)
                let unknown = try await call("rgw_not_a_key")
                #expect(unknown.status == 401 && unknown["code"]?.stringValue == "unauthenticated")
                #expect(
                    unknown.headers["WWW-Authenticate"]
                        == realm + #", error="invalid_token", error_description="the API key is unknown or revoked""#, "\(method)")
                let underScoped = try await call(readKey)
                #expect(underScoped.status == 403 && underScoped["code"]?.stringValue == "forbidden")
                #expect(underScoped.headers["WWW-Authenticate"] == realm + #", error="insufficient_scope", scope="write""#, "\(method)")
                let wrongMerchant = try await call(elsewhere)
                #expect(wrongMerchant.status == 403 && wrongMerchant.headers["WWW-Authenticate"] == nil, "\(method)")
            }
            #expect(gateway.upstream().isEmpty)
        }
    }
}
