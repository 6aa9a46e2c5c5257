import Synchronization
import Testing
@testable import Gateway

/// The engine waits only through its injected sleeper: a write Rokt finishes asynchronously is
/// polled at the configured intervals without the test sleeping them.
@Suite struct EngineRuntimeTests {
    final class Sleeps: Sendable {
        private let taken = Mutex<[Duration]>([])
        var all: [Duration] { taken.withLock { $0 } }
        func record(_ duration: Duration) { taken.withLock { $0.append(duration) } }
    }

    @Test func pollingWaitsThroughTheInjectedSleeper() async throws {
        let sleeps = Sleeps()
        var engine = EngineConfiguration.forTests
        engine.pollInterval = .seconds(10)
        engine.maxPollInterval = .seconds(30)
        engine.pollBudget = .seconds(3600)
        engine.runtime.sleep = { sleeps.record($0) }  // returns at once: no real waiting
        try await withGateway(engine: engine) { gateway in
            gateway.sandbox.faults.holdWritesPending(forPolls: 3, method: "PUT")
            let response = try await gateway.call(
                .post, "/v1/merchants/\(ControlsEndToEndTests.m1)/controls/blocked-domains",
                json: #"{"domain":"polled.example.com"}"#)
            #expect(response.status == 200)
            #expect(sleeps.all == [.seconds(10), .seconds(20), .seconds(30)])
        }
    }
}
