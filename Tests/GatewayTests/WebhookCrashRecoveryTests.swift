import Foundation
import HTTP
import JSON
import RoktSandbox
import Testing
@testable import Gateway

/// The real executable killed with SIGKILL while deliveries are in flight, then restarted on the
/// same database: every event still reaches the receiver.
@Suite(.serialized) struct WebhookCrashRecoveryTests {
    @Test func noDeliveryIsLostWhenTheGatewayIsKilledMidAttempt() async throws {
        let bed = try ProcessTestBed(
            "webhook-crash",
            extra: [
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
                "WEBHOOK_RETRY_SCHEDULE": "0ms,50ms,50ms,50ms,50ms,50ms",
            ])
        let (sandbox, client, environment) = (bed.sandbox, bed.client, bed.environment)
        let receiver = try WebhookReceiver(group: bed.group)
        let auth = ProcessTestBed.headers(json: true)

        let first = try GatewayProcess(environment: environment)
        let port = try await first.waitForField("listening", "port")
        let created = try await client.execute(
            HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(port)/v1/webhook-endpoints", headers: auth,
                body: Array(#"{"url":"\#(receiver.url)"}"#.utf8)))
        #expect(created.status.code == 201)
        // The receiver takes the requests but never answers before the kill.
        receiver.hold(for: .seconds(60))
        for vertical in [1501, 1502] {
            let write = try await client.execute(
                HTTPClientRequest(
                    method: .post, url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", headers: auth,
                    body: Array(#"{"partnerVerticalId":\#(vertical),"partnerSubVerticalId":1600}"#.utf8)))
            #expect(write.status.code == 202 || write.status.code == 200)
        }
        // Two operations: operation.succeeded and controls.changed each; at least one attempt in flight.
        try await receiver.wait(timeout: .seconds(20)) { $0.count >= 1 }
        try await Task.sleep(for: .milliseconds(300))
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        let beforeRestart = receiver.received.count

        receiver.hold(for: .zero)
        let second = try GatewayProcess(environment: environment)
        let port2 = try await second.waitForField("listening", "port")
        let received = try await receiver.wait(timeout: .seconds(20)) { received in
            Set(received.dropFirst(beforeRestart).map(\.id)).count == 4
        }
        let types = Dictionary(grouping: received.dropFirst(beforeRestart), by: \.type).mapValues { Set($0.map(\.id)).count }
        #expect(types == ["operation.succeeded": 2, "controls.changed": 2])
        // And the log agrees: every delivery ended delivered.
        let endpointId = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(created.body))["id"]?.stringValue)
        var states: [String] = []
        for _ in 0..<200 {
            let log = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port2)/v1/webhook-endpoints/\(endpointId)/deliveries", headers: auth))
            states = (try JSONDecoder().decode(JSONValue.self, from: Data(log.body))["data"]?.array ?? []).compactMap { $0["state"]?.stringValue }
            if states.count == 4 && states.allSatisfy({ $0 == "delivered" }) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(states == ["delivered", "delivered", "delivered", "delivered"])
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        await receiver.shutdown()
        await sandbox.shutdown()
    }

    @Test func secretsNeverReachTheLogEvenAtDebugLevel() async throws {
        let bed = try ProcessTestBed(
            "webhook-logs",
            extra: [
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "LOG_LEVEL": "debug",
                "WEBHOOK_RETRY_SCHEDULE": "0ms,20ms,20ms",
            ])
        let (sandbox, client, environment) = (bed.sandbox, bed.client, bed.environment)
        let receiver = try WebhookReceiver(group: bed.group)
        let auth = ProcessTestBed.headers(json: true)
        let gateway = try GatewayProcess(environment: environment)
        let port = try await gateway.waitForField("listening", "port")
        let base = "http://127.0.0.1:\(port)"
        let created = try await client.execute(
            HTTPClientRequest(
                method: .post, url: base + "/v1/webhook-endpoints", headers: auth,
                body: Array(#"{"url":"\#(receiver.url)"}"#.utf8)))
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(created.body))
        let secret = try #require(document["secret"]?.stringValue)
        let id = try #require(document["id"]?.stringValue)
        receiver.answer([500])
        _ = try await client.execute(HTTPClientRequest(method: .post, url: base + "/v1/webhook-endpoints/\(id)/rotate-secret", headers: auth))
        _ = try await client.execute(
            HTTPClientRequest(
                method: .post, url: base + "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", headers: auth,
                body: Array(#"{"partnerVerticalId":1503,"partnerSubVerticalId":1603}"#.utf8)))
        try await receiver.wait { $0.count >= 3 }
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        #expect(gateway.text.contains("request"))  // the log did record the traffic
        #expect(!gateway.text.contains(String(secret.dropFirst(6))))
        #expect(!gateway.text.contains("whsec_"))
        await receiver.shutdown()
        await sandbox.shutdown()
    }
}
