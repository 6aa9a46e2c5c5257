import Foundation
import HTTP
import JSON
import RoktSandbox
import Testing
@testable import Gateway

/// Per-caller rate limits through the whole gateway: the budget is charged once per request,
/// right after authentication, so a refused request touches neither the store nor Rokt.
@Suite struct CallerRateLimitEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let shop = "https://shop.example.com"

    /// Two writes per caller, then one every 100 s; one placement per shopper, then one every 100 s.
    static func tightLimits(_ configuration: inout GatewayConfiguration) {
        configuration.rateLimits.write = RateLimitPolicy(.write, perSecond: 0.01, burst: 2)
        configuration.rateLimits.placements = RateLimitPolicy(.placements, perSecond: 0.01, burst: 1)
        configuration.trustedProxies = try! TrustedProxies(parsing: "127.0.0.1/32")
        configuration.cors = CORSPolicy(allowedOrigins: [shop])
    }

    static func pause(_ gateway: GatewayHarness, key: String, idempotencyKey: String) async throws -> TestResponse {
        var headers = HTTPHeaders()
        headers["Idempotency-Key"] = idempotencyKey
        headers["Origin"] = shop
        return try await gateway.call(.post, "/v1/merchants/\(m1)/pause", json: "{}", key: key, headers: headers)
    }

    @Test func aCallerOverItsBudgetIsRefusedBeforeTheStoreOrRoktAndNoOneElseIs() async throws {
        try await withGateway(configure: Self.tightLimits) { gateway in
            let key = try await gateway.makeKey([.read, .write])
            for attempt in 0..<2 {
                let allowed = try await Self.pause(gateway, key: key, idempotencyKey: "pause-\(attempt)")
                #expect([200, 202].contains(allowed.status), "\(allowed.text)")
                #expect(allowed.headers["RateLimit-Policy"] == "\"write\";q=2;w=200")
                #expect(allowed.headers["RateLimit"]?.hasPrefix("\"write\";r=\(1 - attempt);t=") == true)
            }
            let callsBefore = gateway.upstream().count
            for _ in 0..<2 {
                // The same request twice: refused alike, since nothing was stored under its key.
                let refused = try await Self.pause(gateway, key: key, idempotencyKey: "pause-limited")
                #expect(refused.status == 429)
                #expect(refused["code"]?.stringValue == "rate_limited")
                // A unit comes back 100 s after the first write (less the time the writes took).
                let retryAfter = try #require(refused.headers["Retry-After"].flatMap(Int.init))
                #expect((1...100).contains(retryAfter))
                #expect(refused.headers["RateLimit"] == "\"write\";r=0;t=\(retryAfter)")
                #expect(refused.headers["RateLimit-Policy"] == "\"write\";q=2;w=200")
                #expect(refused.headers["Access-Control-Expose-Headers"]?.contains("RateLimit-Policy") == true)
                #expect(!refused.text.contains(key))
            }
            #expect(gateway.upstream().count == callsBefore)
            let metrics = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(metrics.contains("rokt_gateway_rate_limited_total{class=\"write\"} 2"), "\(metrics)")
            let operations = try await gateway.call(.get, "/v1/operations?merchantId=\(Self.m1)", key: key)
            #expect(operations.status == 200, "reads have their own budget")
            #expect(operations.headers["RateLimit-Policy"] == "\"read\";q=100;w=2")

            let other = try await gateway.makeKey([.write])
            #expect([200, 202].contains(try await Self.pause(gateway, key: other, idempotencyKey: "pause-other").status))

            // From its head alone: a limited caller's body is never waited for.
            let connection = try PlainConnection(port: gateway.port)
            try connection.send(
                "POST /v1/merchants/\(Self.m1)/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            let answer = try await connection.receiveAll()
            #expect(answer.hasPrefix("HTTP/1.1 429"), "\(answer)")
        }
    }

    @Test func aPublishableKeyIsLimitedPerShopperAddress() async throws {
        try await withGateway(configure: Self.tightLimits) { gateway in
            let (_, material) = try await gateway.makePublishableKey(origins: [Self.shop])
            func placements(from address: String) async throws -> TestResponse {
                var headers = HTTPHeaders()
                headers["Origin"] = Self.shop
                headers["X-Forwarded-For"] = address
                return try await gateway.call(.post, PlacementsEndToEndTests.path, json: PlacementsEndToEndTests.body, key: material, headers: headers)
            }
            let first = try await placements(from: "198.51.100.7")
            #expect(first.status == 200, "\(first.text)")
            #expect(first.headers["RateLimit-Policy"] == "\"placements\";q=1;w=100")
            let second = try await placements(from: "198.51.100.7")
            #expect(second.status == 429)
            #expect(second.headers["Access-Control-Allow-Origin"] == Self.shop)
            #expect(try await placements(from: "198.51.100.8").status == 200, "another shopper has a budget of its own")
        }
    }

    @Test func turnedOffNothingIsLimitedAndNoFieldIsSent() async throws {
        try await withGateway(configure: {
            Self.tightLimits(&$0); $0.rateLimits.enabled = false
        }) { gateway in
            for attempt in 0..<3 {
                let allowed = try await Self.pause(gateway, key: gateway.adminKey, idempotencyKey: "off-\(attempt)")
                #expect([200, 202].contains(allowed.status))
                #expect(allowed.headers["RateLimit-Policy"] == nil && allowed.headers["RateLimit"] == nil)
            }
        }
    }
}
