import Foundation
import Rokt
import RoktSandbox
import Store
import Testing
@testable import Gateway
import JSON

/// The events an ending causes are built from the operation the engine holds in memory: what
/// they carry must be the operation as stored once it ended (the document GET
/// /v1/operations/{id} shows, less its call log), after retries (attempts) and a register
/// (which moves the operation under the new account).
@Suite struct EndingEventBodyTests {
    @Test(.readsSQLiteTables) func eventsCarryTheOperationAsStored() async throws {
        try await withGateway { gateway in
            try await gateway.listenToEveryEvent()
            gateway.sandbox.faults.failNext(2, method: "PUT", status: 503)
            let controls = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
                json: #"{"domain":"events.example.com"}"#)
            #expect(controls.status == 200)
            let pause = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant2)/pause")
            #expect(pause.status == 200)
            let register = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"events-shop","name":"Events Shop"}"#)
            #expect(register.status == 201)
            for response in [controls, pause, register] {
                let id = try #require(response["id"]?.stringValue)
                guard case .object(var stored)? = try? JSONValue.parse(try await gateway.call(.get, "/v1/operations/\(id)").body) else {
                    Issue.record("no document for \(id)")
                    continue
                }
                let merchant = stored["merchantId"]
                stored["upstream"] = nil
                stored["merchantId"] = nil
                let event = try #require(try await Self.event("operation.succeeded", of: id, in: gateway))
                #expect(event["data"]?["operation"] == .object(stored))
                #expect(event["data"]?["merchantId"] == merchant)
            }
            #expect(controls["attempts"] == .number(3))
            #expect(register["merchantId"]?.stringValue?.isEmpty == false)
        }
    }

    static func event(_ type: String, of operationId: String, in gateway: GatewayHarness) async throws -> JSONValue? {
        try await gateway.database.read { db in
            try db.query("SELECT body FROM webhook_events WHERE type = ?", [type]).compactMap { row -> JSONValue? in
                let body = try JSONValue.parse(try row.get(0, as: [UInt8].self))
                return body["data"]?["operation"]?["id"] == .string(operationId) ? body : nil
            }.first
        }
    }
}
