import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Store
import Testing
@testable import Gateway

@Suite struct EngineLifecycleTests {
    @Test(.readsSQLiteTables) func cleanShutdownHandsLeasesBack() async throws {
        let harness = try await GatewayHarness.start()
        // Keep the job busy retrying so a lease is held when the gateway stops.
        harness.sandbox.faults.failNext(1000, method: "PUT", status: 503)
        let accepted = try await harness.call(
            .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
            json: #"{"domain":"held.example.com"}"#, headers: ["Prefer": "respond-async"])
        #expect(accepted.status == 202)
        for _ in 0..<200 where harness.upstream("PUT").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let path = harness.services.configuration.databasePath
        await harness.app.shutdown()
        let database = try SQLiteConnection(path: path)
        let leased = try database.queryOne("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NOT NULL")?.get(0, as: Int.self)
        #expect(leased == 0)
        let pending = try database.queryOne("SELECT COUNT(*) FROM pending_writes")?.get(0, as: Int.self)
        #expect(pending == 1)  // kept, with its key, for whoever runs next
        harness.client.shutdown()
        await harness.sandbox.shutdown()
        harness.group.shutdown()
    }

    @Test func preferWaitStaysUnderTheShutdownGrace() async throws {
        try await withGateway(syncWait: .seconds(30), configure: { $0.server.shutdownGracePeriod = .seconds(2) }) { gateway in
            gateway.sandbox.faults.failNext(1000, method: "PUT", status: 503)
            let response = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
                json: #"{"domain":"grace.example.com"}"#, headers: ["Prefer": "wait=600"])
            #expect(response.status == 202)
            #expect(response.headers["Preference-Applied"] == "wait=1")
            gateway.sandbox.faults.clear()
        }
    }

    @Test func preferWaitBoundsTheSynchronousWait() async throws {
        try await withGateway(syncWait: .seconds(30)) { gateway in
            gateway.sandbox.faults.failNext(1000, method: "PUT", status: 503)
            let started = ContinuousClock.now
            let response = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
                json: #"{"domain":"wait.example.com"}"#, headers: ["Prefer": "wait=1"])
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 202)
            #expect(response.headers["Preference-Applied"] == "wait=1")
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(20))  // 1 s, not the 30 s sync wait
            gateway.sandbox.faults.clear()
        }
    }
}

@Suite struct SchedulerTests {
    /// With every slot taken and another merchant's job due, the scheduler sleeps until a job
    /// finishes; it used to poll the next due time (already past) in a tight loop.
    @Test func aFullEngineWaitsForASlotInsteadOfSpinning() async throws {
        var engine = EngineConfiguration.forTests
        engine.maxConcurrentJobs = 1
        engine.minConcurrentJobs = 1
        try await withGateway(engine: engine) { gateway in
            _ = gateway.sandbox.faults.addLatency(
                milliseconds: 1_500, method: "GET",
                path: "/v1/partnership/accounts/\(SandboxDemo.merchant1)/marketplacecontrolslists")
            let async: HTTPHeaders = ["Prefer": "respond-async"]
            let first = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
                json: #"{"domain":"slot-holder.example.com"}"#, headers: async)
            #expect(first.status == 202)
            try await Task.sleep(for: .milliseconds(200))  // merchant 1 holds the only slot, waiting on Rokt
            let second = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant2)/controls/blocked-domains",
                json: #"{"domain":"waiting.example.com"}"#, headers: async)
            #expect(second.status == 202)
            let before = gateway.services.engine.schedulingPasses
            try await Task.sleep(for: .milliseconds(500))
            let passes = gateway.services.engine.schedulingPasses - before
            #expect(passes < 20, "the scheduler looked for work \(passes) times in 500 ms while full")
            // And the waiting job still runs once the slot frees.
            let id = second["id"]?.stringValue ?? ""
            var state: JSONValue?
            for _ in 0..<200 where state != .string("succeeded") {
                state = try await gateway.call(.get, "/v1/operations/\(id)")["state"]
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(state == .string("succeeded"))
        }
    }
}
