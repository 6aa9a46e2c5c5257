import ChildProcess
import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Store
import Testing
@testable import Gateway

extension GatewayHarness {
    /// The job of `resource` ran and was handed back, waiting for a due time in the (manual) clock's future.
    func jobWaits(_ resource: String) async throws -> Bool {
        let now = services.clock.nowMillis()
        return try await database.read { db in
            try db.queryOne("SELECT 1 FROM jobs WHERE resource = ? AND lease_owner IS NULL AND due_at > ?", [resource, now]) != nil
        }
    }

    /// Moves the gateway's clock and lets the scheduler see it (it naps at most 1 s between looks).
    func advance(_ clock: ManualWallClock, by duration: Duration) {
        clock.advance(by: duration)
    }

    /// An endpoint that takes every event, so endings are recorded in the outbox.
    func listenToEveryEvent() async throws {
        let now = services.clock.nowMillis()
        try await database.write { db in
            try WebhookRecords.insert(
                WebhookEndpoint(
                    id: "we_test", url: "https://127.0.0.1:9/rokt", events: nil, description: nil,
                    secretKey: Array(repeating: 7, count: 32), previousSecretKey: nil,
                    previousSecretExpiresAt: nil, createdAt: now, updatedAt: now, failingSince: nil,
                    disabledAt: nil, disabledReason: nil), in: db)
        }
    }

    func eventTypes(of operationId: String) async throws -> [String] {
        try await database.read { db in
            try db.query("SELECT type, body FROM webhook_events ORDER BY created_at, sequence").compactMap { row -> String? in
                String(decoding: try row.get(1, as: [UInt8].self), as: UTF8.self).contains(operationId) ? try row.get(0, as: String.self) : nil
            }
        }
    }
}

@Suite(.serialized) struct OutcomeUnknownTests {
    static let pages = "/v1/merchants/\(SandboxDemo.merchant1)/pages"
    static let roktPages = "/v1/partnership/accounts/*/pages"

    /// A page whose every attempt went unanswered (a 503 after applying, then dropped
    /// connections) is never sent under a second key: when its key is about to expire it ends
    /// `outcome_unknown` with the key and Rokt's request id, and `operation.failed` is emitted.
    @Test(.readsSQLiteTables) func aPageWithoutAnAnswerIsNeverResentUnderANewKey() async throws {
        let clock = ManualWallClock()
        var engine = EngineConfiguration.forTests
        engine.retry.maxAge = .seconds(24 * 3600)
        try await withGateway(engine: engine, clock: clock) { gateway in
            try await gateway.listenToEveryEvent()
            let pagesBefore = gateway.sandbox.account(SandboxDemo.merchant1)?.pages.count ?? 0
            gateway.sandbox.faults.failNext(1, method: "POST", path: Self.roktPages, status: 503, timing: .afterApplying)
            gateway.sandbox.faults.dropNext(1000, method: "POST", path: Self.roktPages, timing: .afterApplying)
            gateway.sandbox.resetRequestLog()
            let accepted = try await gateway.call(
                .post, Self.pages, json: #"{"type":"returns","name":"Returns"}"#,
                headers: ["Prefer": "respond-async"])
            #expect(accepted.status == 202)
            let id = try #require(accepted["id"]?.stringValue)
            let resource = SingleWrite(kind: .page, lane: "pages", method: "POST", path: "", body: nil).resource
            #expect(
                try await eventually {
                    let waits = try await gateway.jobWaits(resource); return waits && gateway.upstream("POST").count >= 1
                })
            // A retry within the key's life: same key, connection dropped.
            gateway.advance(clock, by: .seconds(1))
            let firstAttempts = gateway.upstream("POST").count
            #expect(
                try await eventually {
                    let waits = try await gateway.jobWaits(resource); return waits && gateway.upstream("POST").count > firstAttempts
                })
            // 23 h later the key is about to expire.
            gateway.advance(clock, by: .seconds(23 * 3600))
            let ended = try await gateway.services.engine.wait(for: id, timeout: .seconds(10))
            #expect(ended?.state == .failed)
            #expect(ended?.error?.code == "outcome_unknown")
            #expect(ended?.error?.status == 504)
            let keys = Set(gateway.upstream("POST").compactMap { $0.header("Idempotency-Key") })
            #expect(keys.count == 1)
            #expect(ended?.error?.context?["idempotencyKeys"] == .array(keys.sorted().map(JSONValue.string)))
            #expect(ended?.error?.context?["requestIds"]?.array?.isEmpty == false)
            #expect(try await gateway.eventTypes(of: id).contains("operation.failed"))
            // Rokt recovers; the write is never sent again.
            let attempts = gateway.upstream("POST").count
            gateway.sandbox.faults.clear()
            gateway.advance(clock, by: .seconds(3 * 86_400))
            let document = try await gateway.call(.get, "/v1/operations/\(id)")
            #expect(document["error"]?["code"] == .string("outcome_unknown"))
            #expect(gateway.upstream("POST").count == attempts)
            #expect(gateway.sandbox.account(SandboxDemo.merchant1)?.pages.count == pagesBefore + 1)
        }
    }

    /// A theme (a SET Rokt can be asked again) still starts over under a new key.
    @Test func kindsWithoutReadBackAreExactlyPagesPayoutDataDeletionAndPrivacy() {
        #expect(SingleWrite.Kind.allKinds.filter { !$0.hasReadBack } == [.page, .payoutSetup, .dataDeletion, .privacy])
    }
}

extension SingleWrite.Kind {
    static let allKinds: [SingleWrite.Kind] = [.register, .theme, .page, .payoutSetup, .dataDeletion, .privacy]
}

@Suite(.serialized) struct QueueBoundTests {
    /// Beyond `maxQueuedOperations` unfinished operations a write is 503 `queue_full` with
    /// `Retry-After`, nothing is stored, and its Idempotency-Key is free for the retry.
    @Test(.readsSQLiteTables) func writesBeyondTheBoundAre503WithRetryAfter() async throws {
        var engine = EngineConfiguration.forTests
        engine.maxQueuedOperations = 2
        try await withGateway(engine: engine) { gateway in
            gateway.sandbox.faults.failNext(100_000, method: "POST", path: OutcomeUnknownTests.roktPages, status: 503)
            var ids: [String] = []
            for n in 0..<2 {
                let accepted = try await gateway.call(
                    .post, OutcomeUnknownTests.pages, json: #"{"type":"returns","name":"P\#(n)"}"#,
                    headers: ["Prefer": "respond-async"])
                #expect(accepted.status == 202)
                ids.append(accepted["id"]?.stringValue ?? "")
            }
            let refused = try await gateway.call(
                .post, OutcomeUnknownTests.pages, json: #"{"type":"returns","name":"P2"}"#,
                headers: ["Prefer": "respond-async", "Idempotency-Key": "third-page"])
            #expect(refused.status == 503)
            #expect(refused["code"] == .string("queue_full"))
            #expect(refused.headers["Retry-After"] == "5")
            #expect(refused.headers["Content-Type"] == "application/problem+json")
            // Another merchant's controls count against the same bound.
            let controls = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant2)/controls/blocked-domains",
                json: #"{"domain":"full.example.com"}"#, headers: ["Prefer": "respond-async"])
            #expect(controls.status == 503)
            let stored = try await gateway.database.read { db in try db.queryOne("SELECT COUNT(*) FROM operations")!.get(0, as: Int.self) }
            #expect(stored == 2)

            gateway.sandbox.faults.clear()
            for id in ids { #expect(try await gateway.services.engine.wait(for: id, timeout: .seconds(10))?.state == .succeeded) }
            let retried = try await gateway.call(
                .post, OutcomeUnknownTests.pages, json: #"{"type":"returns","name":"P2"}"#,
                headers: ["Prefer": "respond-async", "Idempotency-Key": "third-page"])
            #expect(retried.status == 202)
        }
    }
}
