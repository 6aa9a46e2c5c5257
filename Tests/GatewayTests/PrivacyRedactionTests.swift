import ChildProcess
import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// However a privacy request ends, its raw identifiers leave the database file and its WAL
/// (read byte by byte): succeeded, refused by Rokt, expired, outcome unknown.
@Suite(.serialized) struct PrivacyRedactionTests {
    static let path = "/v1/privacy-requests"
    static let roktPath = RoktPath.privacyRequests
    static let resource = SingleWrite(kind: .privacy, lane: "privacy", method: "POST", path: "", body: nil).resource

    /// A value found nowhere else in the files.
    static func canary() -> String { "canary-\(UUID().uuidString.prefix(8).lowercased())@privacy.example.com" }
    static func body(_ email: String) -> String { #"{"requestType":"deletion","identifiers":[{"type":"email","value":"\#(email)"}]}"# }

    /// The bytes of the database file and of its WAL (absent counts as empty).
    static func fileBytes(_ gateway: GatewayHarness) -> (database: Data, wal: Data) {
        let path = gateway.app.configuration.databasePath
        return ((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), (try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
    }

    static func onDisk(_ value: String, _ gateway: GatewayHarness) -> Bool {
        let needle = Data(value.utf8)
        let (database, wal) = fileBytes(gateway)
        return database.range(of: needle) != nil || wal.range(of: needle) != nil
    }

    static func expectGone(_ email: String, from gateway: GatewayHarness, operation id: String) async throws {
        // The WAL is truncated off the writer thread, right after the ending's commit.
        #expect(await eventually { !onDisk(email, gateway) }, "raw identifier still in the database file or its WAL")
        let intent = try await gateway.database.read { db in
            try db.queryOne("SELECT intent FROM operations WHERE id = ?", [id])?.get(0, as: String.self)
        }
        #expect(intent?.contains(Digest.sha256Hex(email)) == true)
    }

    @Test(.readsSQLiteTables) func succeeded() async throws {
        try await withGateway { gateway in
            try await gateway.listenToEveryEvent()
            let email = Self.canary()
            let response = try await gateway.call(.post, Self.path, json: Self.body(email))
            #expect(response.status == 200)
            #expect(gateway.upstream("POST", pathSuffix: "/network-privacy-requests").last?.body.contains(email) == true)
            try await Self.expectGone(email, from: gateway, operation: try #require(response["id"]?.stringValue))
        }
    }

    @Test(.readsSQLiteTables) func refusedByRokt() async throws {
        try await withGateway { gateway in
            try await gateway.listenToEveryEvent()
            gateway.sandbox.faults.failNext(1, method: "POST", path: Self.roktPath, status: 422)
            let email = Self.canary()
            let response = try await gateway.call(.post, Self.path, json: Self.body(email))
            #expect(response["code"] == .string("upstream_rejected"))
            try await Self.expectGone(email, from: gateway, operation: try #require(response["operationId"]?.stringValue))
        }
    }

    @Test(.readsSQLiteTables) func expiredWhileRoktKeptFailing() async throws {
        let clock = ManualWallClock()
        try await withGateway(clock: clock) { gateway in  // retries for at most 1 h (EngineConfiguration.forTests)
            gateway.sandbox.faults.failNext(100_000, method: "POST", path: Self.roktPath, status: 503)
            let email = Self.canary()
            let accepted = try await gateway.call(.post, Self.path, json: Self.body(email), headers: ["Prefer": "respond-async"])
            let id = try #require(accepted["id"]?.stringValue)
            #expect(try await eventually { try await gateway.jobWaits(Self.resource) })
            // While it may still be re-sent, the raw value is stored (the test can see it).
            #expect(Self.onDisk(email, gateway))
            clock.advance(by: .seconds(2 * 3600))
            let ended = try await gateway.services.engine.wait(for: id, timeout: .seconds(10))
            #expect(ended?.state == .failed)
            // Every attempt went unanswered for good: nothing to read back, so the outcome is unknown.
            #expect(ended?.error?.code == "outcome_unknown")
            try await Self.expectGone(email, from: gateway, operation: id)
        }
    }

    @Test(.readsSQLiteTables) func outcomeUnknown() async throws {
        let clock = ManualWallClock()
        var engine = EngineConfiguration.forTests
        engine.retry.maxAge = .seconds(24 * 3600)
        try await withGateway(engine: engine, clock: clock) { gateway in
            gateway.sandbox.faults.dropNext(100_000, method: "POST", path: Self.roktPath, timing: .afterApplying)
            let email = Self.canary()
            let accepted = try await gateway.call(.post, Self.path, json: Self.body(email), headers: ["Prefer": "respond-async"])
            let id = try #require(accepted["id"]?.stringValue)
            #expect(try await eventually { try await gateway.jobWaits(Self.resource) })
            clock.advance(by: .seconds(23 * 3600 + 60))
            let ended = try await gateway.services.engine.wait(for: id, timeout: .seconds(10))
            #expect(ended?.error?.code == "outcome_unknown")
            try await Self.expectGone(email, from: gateway, operation: id)
        }
    }
}
