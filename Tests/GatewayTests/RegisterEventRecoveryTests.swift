import Foundation
import HTTP
import JSON
import Rokt
import Store
import Testing
@testable import Gateway

/// `merchant.registered` is one fact with one event id, however often the write that causes it
/// is re-run: receivers deduplicate on `webhook-id`.
@Suite struct RegisterEventRecoveryTests {
    static let body = #"{"externalAccountId":"crash-shop-1","name":"Crash Shop"}"#

    /// The crash window: the event and the merchant binding were committed, the operation not yet
    /// ended, its pending write still stored. That state is rebuilt on the real database, then the
    /// engine resumes it as it does after a restart: Rokt replays the 201 under the stored key.
    @Test(.readsSQLiteTables) func registerReRunAfterACrashKeepsTheEventId() async throws {
        try await withGateway(configure: WebhookEndToEndTests.fastWebhooks) { gateway in
            _ = try await WebhookEndToEndTests.createEndpoint(gateway, url: "http://127.0.0.1:9/unused", events: ["merchant.registered"])
            let created = try await gateway.call(.post, "/v1/merchants", json: Self.body)
            #expect(created.status == 201)
            let operationId = try #require(created["id"]?.stringValue)
            let sent = try #require(gateway.upstream("POST", pathSuffix: RoktPath.register).first)
            let key = try #require(sent.header("Idempotency-Key"))
            let before = try await Self.registeredEvents(gateway)
            #expect(before.count == 1)

            let write = SingleWrite(
                kind: .register, lane: "register:crash-shop-1", method: "POST", path: RoktPath.register,
                body: .object(["external_account_id": .string("crash-shop-1"), "name": .string("Crash Shop")]))
            let now = gateway.services.clock.nowMillis()
            try await gateway.database.write { db in
                try db.run("UPDATE operations SET state = 'running', result_id = NULL, changed = NULL WHERE id = ?", [operationId])
                try JobRecords.insertPendingWrite(
                    PendingWrite(
                        merchantId: "", resource: write.resource, operationIds: [operationId],
                        plan: JSON.encode(SingleWriteReconciler.Plan(kind: .register)), method: write.method, path: write.path,
                        body: write.encodedBody, idempotencyKey: key, createdAt: now, upstreamOperationId: nil), in: db)
                try JobRecords.markDue(merchantId: "", resource: write.resource, at: now, in: db)
            }
            var state = ""
            for _ in 0..<200 where state != "succeeded" {
                try await Task.sleep(for: .milliseconds(25))
                state = try await gateway.call(.get, "/v1/operations/\(operationId)")["state"]?.stringValue ?? ""
            }
            #expect(state == "succeeded")
            // Re-sent under the same key (Rokt replayed), and still the one event with its first id.
            #expect(gateway.upstream("POST", pathSuffix: RoktPath.register).count == 2)
            #expect(try await Self.registeredEvents(gateway) == before)
        }
    }

    @Test(.readsSQLiteTables) func recordingTheSameFactTwiceStoresOneEventAndUsesOneSequenceNumber() async throws {
        try await withGateway(configure: WebhookEndToEndTests.fastWebhooks) { gateway in
            _ = try await WebhookEndToEndTests.createEndpoint(gateway, url: "http://127.0.0.1:9/unused")
            let data: [String: JSONValue] = ["operationId": .string("op_0190000000001234567890abcdef"), "merchant": .object([:])]
            let (first, second) = try await gateway.database.write { db in
                (
                    try WebhookRecords.record(WebhookEvents.event(.merchantRegistered, merchantId: "m-1", data: data), at: 1, in: db),
                    try WebhookRecords.record(WebhookEvents.event(.merchantRegistered, merchantId: "m-1", data: data), at: 2, in: db)
                )
            }
            #expect(first != nil && first == second)
            #expect(first?.hasPrefix("evt_019000000000") == true)
            let rows = try await gateway.database.read { db in
                try db.query("SELECT sequence FROM webhook_events WHERE merchant_id = 'm-1'").map { try $0.get(0, as: Int64.self) }
            }
            #expect(rows == [1])
            // Another fact of the same operation is another event.
            let other = try await gateway.database.write { db in
                try WebhookRecords.record(WebhookEvents.event(.controlsChanged, merchantId: "m-1", data: data), at: 3, in: db)
            }
            #expect(other != nil && other != first)
        }
    }

    static func registeredEvents(_ gateway: GatewayHarness) async throws -> [String] {
        try await gateway.database.read { db in
            try db.query("SELECT id FROM webhook_events WHERE type = 'merchant.registered' ORDER BY id").map { try $0.get(0, as: String.self) }
        }
    }
}
