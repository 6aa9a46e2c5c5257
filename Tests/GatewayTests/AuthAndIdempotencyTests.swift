import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite struct AuthMatrixTests {
    static let path = "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains"
    static let body = #"{"domain":"auth.example.com"}"#

    @Test func missingOrUnknownKeyIs401AndNothingIsSent() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let anonymous = try await gateway.call(.post, Self.path, json: Self.body, anonymous: true)
            #expect(anonymous.status == 401)
            #expect(anonymous["code"] == .string("unauthenticated"))
            let unknown = try await gateway.call(.post, Self.path, json: Self.body, key: "rgw_nope")
            #expect(unknown.status == 401)
            #expect(try await gateway.call(.get, "/v1/operations", anonymous: true).status == 401)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func missingScopeOrForeignMerchantIs403AndNothingIsSent() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read])
            let m2Writer = try await gateway.makeKey([.read, .write], merchants: [SandboxDemo.merchant2])
            gateway.sandbox.resetRequestLog()
            #expect(try await gateway.call(.post, Self.path, json: Self.body, key: reader).status == 403)
            #expect(try await gateway.call(.post, Self.path, json: Self.body, key: m2Writer).status == 403)
            #expect(try await gateway.call(.get, "/v1/merchants/\(SandboxDemo.merchant1)/controls", key: m2Writer).status == 403)
            #expect(try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/pause", key: reader).status == 403)
            #expect(try await gateway.call(.get, "/v1/operations?merchantId=\(SandboxDemo.merchant1)", key: m2Writer).status == 403)
            #expect(gateway.sandbox.requestLog.isEmpty)
            // What they may do, they can.
            #expect(try await gateway.call(.get, "/v1/merchants/\(SandboxDemo.merchant1)/controls", key: reader).status == 200)
            #expect(try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant2)/controls/blocked-domains", json: Self.body, key: m2Writer).status == 200)
        }
    }

    @Test func restrictedKeySeesOnlyItsMerchantsOperations() async throws {
        try await withGateway { gateway in
            let m2Reader = try await gateway.makeKey([.read], merchants: [SandboxDemo.merchant2])
            let foreign = try await gateway.call(.post, Self.path, json: Self.body)
            let id = try #require(foreign["id"]?.stringValue)
            #expect(try await gateway.call(.get, "/v1/operations/\(id)", key: m2Reader).status == 404)
            #expect(try await gateway.call(.get, "/v1/operations", key: m2Reader)["data"]?.array?.isEmpty == true)
        }
    }

    /// Keys are re-read every second; on a loaded machine that poll can run late, so the test
    /// allows 30 s and checks that each change is seen, in order.
    @Test func aKeyCreatedThenRevokedInTheStoreIsSeenByTheRunningGateway() async throws {
        try await withGateway { gateway in
            let service = ApiKeyService(store: gateway.store, clock: gateway.services.clock)
            let (key, secret) = try await service.create(name: "short-lived", scopes: [.read], merchants: nil)
            #expect(try await Self.status(of: secret, becomes: 200, gateway))
            #expect(try await service.revoke(id: key.id))
            #expect(try await Self.status(of: secret, becomes: 401, gateway))
        }
    }

    static func status(of secret: String, becomes expected: Int, _ gateway: GatewayHarness) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await gateway.call(.get, "/v1/operations", key: secret).status == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

@Suite struct InboundIdempotencyTests {
    static let path = "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains"

    @Test func sameKeySameRequestReplaysWithoutRunningAgain() async throws {
        try await withGateway { gateway in
            let first = try await gateway.call(.post, Self.path, json: #"{"domain":"once.example.com"}"#, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 200)
            #expect(first.headers["Idempotent-Replayed"] == nil)
            gateway.sandbox.resetRequestLog()
            let again = try await gateway.call(.post, Self.path, json: #"{"domain":"once.example.com"}"#, headers: ["Idempotency-Key": "k-1"])
            #expect(again.status == 200)
            #expect(again.headers["Idempotent-Replayed"] == "true")
            #expect(again.body == first.body)
            #expect(gateway.sandbox.requestLog.isEmpty)
            let list = try await gateway.call(.get, "/v1/operations?merchantId=\(SandboxDemo.merchant1)")
            #expect(list["data"]?.array?.count == 1)
        }
    }

    @Test func sameKeyDifferentRequestIs422() async throws {
        try await withGateway { gateway in
            _ = try await gateway.call(.post, Self.path, json: #"{"domain":"one.example.com"}"#, headers: ["Idempotency-Key": "k-2"])
            let other = try await gateway.call(.post, Self.path, json: #"{"domain":"two.example.com"}"#, headers: ["Idempotency-Key": "k-2"])
            #expect(other.status == 422)
            #expect(other["code"] == .string("idempotency_key_reused"))
        }
    }

    @Test(.readsSQLiteTables) func sameKeyWhileTheFirstIsInFlightIs409() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.addLatency(milliseconds: 1_500, method: "GET", count: 1)
            async let first = gateway.call(.post, Self.path, json: #"{"domain":"slow.example.com"}"#, headers: ["Idempotency-Key": "k-3"])
            // Send the second only once the first holds the key (a fixed sleep raced on loaded machines).
            for _ in 0..<100 {
                let held = try await gateway.database.read { db in
                    try db.queryOne("SELECT COUNT(*) FROM inbound_requests WHERE idempotency_key = 'k-3'")?.get(0, as: Int.self) ?? 0
                }
                if held > 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let second = try await gateway.call(.post, Self.path, json: #"{"domain":"slow.example.com"}"#, headers: ["Idempotency-Key": "k-3"])
            #expect(second.status == 409)
            #expect(second["code"] == .string("idempotency_key_in_flight"))
            #expect(try await first.status == 200)
        }
    }

    @Test func keysAreScopedPerApiKey() async throws {
        try await withGateway { gateway in
            let other = try await gateway.makeKey([.write, .read])
            _ = try await gateway.call(.post, Self.path, json: #"{"domain":"a.example.com"}"#, headers: ["Idempotency-Key": "shared"])
            let response = try await gateway.call(.post, Self.path, json: #"{"domain":"b.example.com"}"#, key: other, headers: ["Idempotency-Key": "shared"])
            #expect(response.status == 200)
            #expect(response.headers["Idempotent-Replayed"] == nil)
        }
    }

    @Test func recordsExpireAfter24Hours() async throws {
        let clock = ManualWallClock()
        try await withGateway(clock: clock) { gateway in
            _ = try await gateway.call(.post, Self.path, json: #"{"domain":"a.example.com"}"#, headers: ["Idempotency-Key": "k-4"])
            clock.advance(by: .seconds(24 * 3600 + 1))
            let later = try await gateway.call(.post, Self.path, json: #"{"domain":"b.example.com"}"#, headers: ["Idempotency-Key": "k-4"])
            #expect(later.status == 200)
            #expect(later.headers["Idempotent-Replayed"] == nil)
        }
    }
}
