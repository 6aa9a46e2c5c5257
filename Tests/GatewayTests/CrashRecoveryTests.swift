import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// The real executable killed with SIGKILL mid-retry and restarted on the same database.
@Suite(.serialized) struct CrashRecoveryTests {
    @Test func operationKilledMidRetryCompletesExactlyOnceAfterRestart() async throws {
        let bed = try ProcessTestBed("crash")
        let (sandbox, client, environment) = (bed.sandbox, bed.client, bed.environment)

        // The first PUT is applied but its answer is lost; later ones fail: the gateway keeps retrying.
        let controlsPath = "/v1/partnership/accounts/*/marketplacecontrolslists"
        sandbox.faults.dropNext(1, method: "PUT", path: controlsPath, timing: .afterApplying)
        sandbox.faults.failNext(1000, method: "PUT", path: controlsPath, status: 503)

        let first = try GatewayProcess(environment: environment)
        let port = try await first.waitForField("listening", "port")
        let accepted = try await client.execute(
            HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals",
                headers: ProcessTestBed.headers(json: true),
                body: Array(#"{"partnerVerticalId":1555,"partnerSubVerticalId":1655}"#.utf8)))
        #expect(accepted.status.code == 202)
        let operationId = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(accepted.body))["id"]?.stringValue)
        // Wait until it has retried at least once, then kill it without warning.
        for _ in 0..<200 where sandbox.requestLog.filter({ $0.method == "PUT" }).count < 2 { try await Task.sleep(for: .milliseconds(25)) }
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        #expect(sandbox.requestLog.filter { $0.method == "PUT" }.count >= 2)

        sandbox.faults.clear()
        let second = try GatewayProcess(environment: environment)
        let port2 = try await second.waitForField("listening", "port")
        var state = ""
        var document = JSONValue.null
        for _ in 0..<400 where state != "succeeded" && state != "failed" {
            try await Task.sleep(for: .milliseconds(50))
            let response = try await client.execute(
                HTTPClientRequest(
                    url: "http://127.0.0.1:\(port2)/v1/operations/\(operationId)",
                    headers: ProcessTestBed.headers()))
            document = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
            state = document["state"]?.stringValue ?? ""
        }
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        #expect(state == "succeeded")
        // Every PUT, before and after the crash, carried the one key committed before the first was sent.
        let puts = sandbox.requestLog.filter { $0.method == "PUT" }
        #expect(Set(puts.compactMap { $0.header("Idempotency-Key") }).count == 1)
        // Before and after the crash, every call to Rokt continued the trace recorded on the operation.
        let traceId = try #require(document["traceId"]?.stringValue)
        #expect(Set(sandbox.requestLog.map { $0.header("traceparent").flatMap(TraceParent.init(parsing:))?.traceId }) == [traceId])
        // Applied once: the vertical is there once, next to nothing else.
        #expect(sandbox.controls(of: SandboxDemo.merchant1)!.blockedVerticals.map(\.partnerVerticalId) == [1555])
        await sandbox.shutdown()
    }

    @Test func keysCommandsWorkWhileAGatewayRuns() async throws {
        let bed = try ProcessTestBed("keys")
        let (sandbox, client, environment) = (bed.sandbox, bed.client, bed.environment)
        let gateway = try GatewayProcess(environment: environment)
        let port = try await gateway.waitForField("listening", "port")

        let create = try GatewayProcess(
            arguments: ["keys", "create", "--name", "dashboard", "--scope", "read", "--merchant", SandboxDemo.merchant1],
            environment: environment)
        #expect(await create.waitForExit() == 0)
        let secret = try #require(create.text.split(separator: "\n").last.map(String.init))
        #expect(secret.hasPrefix("rgw_"))
        func status(_ key: String) async throws -> Int {
            try await client.execute(
                HTTPClientRequest(
                    url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/status",
                    headers: ["Authorization": "Bearer \(key)"])
            ).status.code
        }
        var code = 0
        for _ in 0..<40 where code != 200 {
            try await Task.sleep(for: .milliseconds(100))
            code = try await status(secret)
        }
        #expect(code == 200)

        let list = try GatewayProcess(arguments: ["keys", "list"], environment: environment)
        #expect(await list.waitForExit() == 0)
        #expect(list.text.contains("dashboard"))
        #expect(!list.text.contains(secret))
        let id = try #require(list.text.split(separator: "\n").first { $0.contains("dashboard") }?.split(separator: "\t").first.map(String.init))
        let revoke = try GatewayProcess(arguments: ["keys", "revoke", id], environment: environment)
        #expect(await revoke.waitForExit() == 0)
        for _ in 0..<40 where code != 401 {
            try await Task.sleep(for: .milliseconds(100))
            code = try await status(secret)
        }
        #expect(code == 401)
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        await sandbox.shutdown()
    }

    @Test func secondGatewayOnTheSameDatabaseRefusesToStart() async throws {
        let bed = try ProcessTestBed("lock")
        let (sandbox, environment) = (bed.sandbox, bed.environment)
        let first = try GatewayProcess(environment: environment)
        _ = try await first.waitForField("listening", "port")
        let second = try GatewayProcess(environment: environment)
        let status = await second.waitForExit()
        #expect(status != 0 && status != nil)
        #expect(second.text.contains("already serving this database"))
        first.signal(SIGTERM)
        _ = await first.waitForExit()
        await sandbox.shutdown()
    }
}
