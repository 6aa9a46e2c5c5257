import Foundation
import HTTP
import Store
import Testing
@testable import Gateway

/// The answers that show a webhook signing secret, replayed under their `Idempotency-Key`: the
/// store never holds the secret in them, and a replay shows it only while it is still the
/// endpoint's current secret.
@Suite struct WebhookSecretReplayTests {
    static let body = #"{"url":"http://127.0.0.1:9/hooks","description":"partner backend"}"#

    static func configure(_ configuration: inout GatewayConfiguration) { configuration.allowPrivateWebhooks = true }

    static func create(_ gateway: GatewayHarness, key: String) async throws -> TestResponse {
        try await gateway.call(.post, "/v1/webhook-endpoints", json: body, headers: ["Idempotency-Key": key])
    }

    /// Every byte of the database file and its WAL, as text (the secret is ASCII).
    static func storedBytes(_ gateway: GatewayHarness) -> String {
        let path = gateway.services.configuration.databasePath
        let bytes = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(.readsSQLiteTables) func aReplayShowsTheLiveSecretAndTheStoreNeverHoldsIt() async throws {
        try await withGateway(configure: Self.configure) { gateway in
            let first = try await Self.create(gateway, key: "create-1")
            #expect(first.status == 201)
            let secret = try #require(first["secret"]?.stringValue)
            let replay = try await Self.create(gateway, key: "create-1")
            #expect(replay.status == 201)
            #expect(replay.headers["Idempotent-Replayed"] == "true")
            #expect(replay.json == first.json)
            #expect(replay.headers["Location"] == first.headers["Location"])
            let stored = try await gateway.database.read { db in
                try db.query("SELECT body, secret_ref FROM inbound_requests WHERE idempotency_key = 'create-1'")
                    .map { (String(decoding: try $0.get(0, as: [UInt8].self), as: UTF8.self), try $0.get(1, as: String?.self)) }
            }
            #expect(stored.count == 1)
            #expect(stored.first.map { !$0.0.contains(secret) && $0.1 != nil } == true)
            let base64 = String(secret.dropFirst("whsec_".count))
            let bytes = Self.storedBytes(gateway)
            #expect(!bytes.isEmpty)
            let (holdsSecret, holdsKey) = (bytes.contains(secret), bytes.contains(base64))
            #expect(!holdsSecret)
            #expect(!holdsKey)
        }
    }

    @Test func aReplayAfterTheEndpointWasDeletedShowsNoSecret() async throws {
        try await withGateway(configure: Self.configure) { gateway in
            let first = try await Self.create(gateway, key: "create-2")
            let secret = try #require(first["secret"]?.stringValue)
            let id = try #require(first["id"]?.stringValue)
            #expect(try await gateway.call(.delete, "/v1/webhook-endpoints/\(id)").status == 204)
            let replay = try await Self.create(gateway, key: "create-2")
            #expect(replay.status == 404)
            #expect(replay["code"] == .string("not_found"))
            #expect(!replay.text.contains(secret))
            #expect(!replay.text.contains(String(secret.dropFirst("whsec_".count))))
        }
    }

    @Test func aRotatedSecretIsNotShownByAnOlderAnswer() async throws {
        try await withGateway(configure: Self.configure) { gateway in
            let created = try await Self.create(gateway, key: "create-3")
            let id = try #require(created["id"]?.stringValue)
            let original = try #require(created["secret"]?.stringValue)
            let rotatePath = "/v1/webhook-endpoints/\(id)/rotate-secret"
            let rotated = try await gateway.call(.post, rotatePath, headers: ["Idempotency-Key": "rotate-1"])
            #expect(rotated.status == 200)
            let current = try #require(rotated["secret"]?.stringValue)
            #expect(current != original)
            // The creation's answer held a secret that is no longer current (still signing, during the grace).
            let oldReplay = try await Self.create(gateway, key: "create-3")
            #expect(oldReplay.status == 404)
            #expect(!oldReplay.text.contains(original))
            // The rotation's answer still shows the current secret.
            let rotateReplay = try await gateway.call(.post, rotatePath, headers: ["Idempotency-Key": "rotate-1"])
            #expect(rotateReplay.status == 200)
            #expect(rotateReplay["secret"]?.stringValue == current)
            let holdsCurrent = Self.storedBytes(gateway).contains(current)
            #expect(!holdsCurrent)
            #expect(try await gateway.call(.delete, "/v1/webhook-endpoints/\(id)").status == 204)
            let goneReplay = try await gateway.call(.post, rotatePath, headers: ["Idempotency-Key": "rotate-1"])
            #expect(goneReplay.status == 404)
            #expect(!goneReplay.text.contains(current))
        }
    }
}
