import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// Single writes survive a kill -9 mid-retry and follow Rokt's `X-Operation-Id` by polling.
@Suite(.serialized) struct SingleWriteRecoveryTests {
    @Test func payoutKilledMidRetryIsResentWithTheStoredKeyAfterRestart() async throws {
        let bed = try ProcessTestBed("payout-crash")
        let (sandbox, client, environment) = (bed.sandbox, bed.client, bed.environment)
        let payoutPath = "/v1/partnership/accounts/*/payout-setup"
        // The first request creates the Stripe account, then its answer is lost; later ones fail.
        sandbox.faults.dropNext(1, method: "POST", path: payoutPath, timing: .afterApplying)
        sandbox.faults.failNext(1000, method: "POST", path: payoutPath, status: 503)

        let first = try GatewayProcess(environment: environment)
        let port = try await first.waitForField("listening", "port")
        let accepted = try await client.execute(
            HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/payout-setup",
                headers: ProcessTestBed.headers()))
        #expect(accepted.status.code == 202)
        let operationId = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(accepted.body))["id"]?.stringValue)
        for _ in 0..<200 where sandbox.requestLog.filter({ $0.method == "POST" }).count < 2 { try await Task.sleep(for: .milliseconds(25)) }
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        let stripeAccount = sandbox.account(SandboxDemo.merchant1)?.stripeAccountId
        #expect(stripeAccount != nil)

        sandbox.faults.clear()
        let second = try GatewayProcess(environment: environment)
        let port2 = try await second.waitForField("listening", "port")
        var document = JSONValue.null
        for _ in 0..<400 where !["succeeded", "failed"].contains(document["state"]?.stringValue ?? "") {
            try await Task.sleep(for: .milliseconds(50))
            let response = try await client.execute(
                HTTPClientRequest(
                    url: "http://127.0.0.1:\(port2)/v1/operations/\(operationId)",
                    headers: ProcessTestBed.headers()))
            document = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        }
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        #expect(document["state"] == .string("succeeded"))
        let posts = sandbox.requestLog.filter { $0.method == "POST" }
        #expect(posts.count >= 3)
        #expect(Set(posts.compactMap { $0.header("Idempotency-Key") }).count == 1)
        // Rokt replayed the first answer: the link is for the one Stripe account created.
        #expect(posts.last?.replayed == true)
        #expect(document["result"]?["stripeAccountId"]?.stringValue == stripeAccount)
        await sandbox.shutdown()
    }

    @Test func registerAnsweredWithAnOperationIdIsPolledNotResent() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.holdWritesPending(forPolls: 2, method: "POST", path: "/v1/accounts/register/partnership")
            gateway.sandbox.resetRequestLog()
            let created = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"slow-rokt-1","name":"Slow"}"#)
            #expect(created.status == 201)
            let accountId = try #require(created["result"]?["accountId"]?.stringValue)
            #expect(gateway.sandbox.account(accountId)?.externalAccountId == "slow-rokt-1")
            #expect(gateway.upstream("POST").count == 1)
            #expect(gateway.upstream("GET", pathSuffix: nil).contains { $0.path.hasPrefix("/v1/partnership/operations/") })
        }
    }
}
