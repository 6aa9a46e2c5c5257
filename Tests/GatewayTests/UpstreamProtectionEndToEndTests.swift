import ChildProcess
import Foundation
import HTTP
import Rokt
import RoktSandbox
import Synchronization
import Testing
@testable import Gateway

/// The protection toward Rokt on the real gateway against the real sandbox: the circuit breaker
/// on a run of 5xx, the pause on a 429's Retry-After, and the outbound rate limit under a flood.
/// The engine's (and the protection's) monotonic clock is moved by hand where a wait is the point.
@Suite struct UpstreamProtectionEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let m2 = SandboxDemo.merchant2
    static let roktControls = "/v1/partnership/accounts/*/marketplacecontrolslists"
    static let roktStatus = "/v1/partnership/accounts/*/status"

    /// A monotonic clock that moves only when told (the breaker's open time, Rokt's pause).
    final class ManualMonotonicClock: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(by duration: Duration) { instant.withLock { $0 += duration } }
    }

    static func engine(_ clock: ManualMonotonicClock) -> EngineConfiguration {
        var engine = EngineConfiguration.forTests
        engine.runtime.monotonicNow = { clock.now }
        return engine
    }

    /// A sample's value in a scrape (`name{labels} value` or `name value`).
    static func sample(_ scrape: String, _ series: String) -> Double? {
        scrape.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// Lets the scheduler look for work a few times: a held job must stay unclaimed meanwhile.
    static func letTheSchedulerLook(_ gateway: GatewayHarness) async {
        let passes = gateway.services.engine.schedulingPasses
        _ = await eventually { gateway.services.engine.schedulingPasses >= passes + 2 }
    }

    @Test func aRunOf5xxOpensTheCircuitReadsFailFastAndHeldWritesCompleteOnceItCloses() async throws {
        let clock = ManualMonotonicClock()
        try await withGateway(
            engine: Self.engine(clock),
            configure: {
                $0.upstream = UpstreamProtectionSettings(
                    breaker: CircuitBreakerSettings(failureThreshold: 3, openDuration: .seconds(30), halfOpenProbes: 2))
            }
        ) { gateway in
            gateway.sandbox.faults.failNext(3, method: "GET", path: Self.roktControls, status: 503)
            for _ in 0..<3 { #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/controls").status == 502) }
            gateway.sandbox.resetRequestLog()

            // Open: reads answer at once, and Rokt is not called.
            let read = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/controls")
            #expect(read.status == 503)
            #expect(read["code"]?.stringValue == "upstream_unavailable")
            #expect(read.headers["Retry-After"] == "30")
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m2)/status").status == 503)
            #expect(gateway.sandbox.requestLog.isEmpty)

            // Degraded, still ready.
            let ready = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(ready.status == 200)
            #expect(ready["status"]?.stringValue == "ready")
            #expect(ready["degraded"]?.bool == true)
            #expect(ready["upstream"]?.stringValue == "open")
            #expect(ready["upstreamRetryAfterSeconds"]?.int == 30)

            // A write is accepted and held: queued, not attempted, nothing sent.
            let write = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"held.example.com"}"#,
                headers: ["Prefer": "respond-async"])
            #expect(write.status == 202)
            let location = try #require(write.headers["Location"])
            await Self.letTheSchedulerLook(gateway)
            #expect(gateway.sandbox.requestLog.isEmpty)
            let held = try await gateway.call(.get, location)
            #expect(held["state"]?.stringValue == "queued")
            #expect(held["attempts"]?.int == 0)

            let scrape = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(Self.sample(scrape, "rokt_gateway_upstream_circuit_state") == 2)
            #expect(Self.sample(scrape, #"rokt_gateway_upstream_calls_held_total{reason="circuit_open"}"#) == 2)

            // Half-open after the open time: the held write's calls are the probes, and they close it.
            clock.advance(by: .seconds(30))
            #expect(await eventually { (try? await gateway.call(.get, location))?["state"]?.stringValue == "succeeded" })
            #expect(gateway.sandbox.controls(of: Self.m1)?.domains.map(\.domain).contains("held.example.com") == true)
            #expect(try await gateway.call(.get, "/readyz", anonymous: true).text == #"{"status":"ready"}"#)
            let closed = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(Self.sample(closed, "rokt_gateway_upstream_circuit_state") == 0)
        }
    }

    @Test func rokt429RetryAfterPausesEveryCallNotOnlyTheOneThatGotIt() async throws {
        let clock = ManualMonotonicClock()
        try await withGateway(engine: Self.engine(clock), configure: { $0.upstream = UpstreamProtectionSettings(maxPause: .seconds(60)) }) {
            gateway in
            gateway.sandbox.faults.failNext(1, method: "GET", path: Self.roktStatus, status: 429, retryAfterSeconds: 20)
            let limited = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status")
            #expect(limited.status == 503)
            #expect(limited["code"]?.stringValue == "upstream_rate_limited")
            #expect(limited.headers["Retry-After"] == "20")
            gateway.sandbox.resetRequestLog()

            // Another merchant, another endpoint: paused too, answered at once.
            let other = try await gateway.call(.get, "/v1/merchants/\(Self.m2)/controls")
            #expect(other.status == 503)
            #expect(other["code"]?.stringValue == "upstream_unavailable")
            #expect(other.headers["Retry-After"] == "20")
            let ready = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(ready["degraded"]?.bool == true)
            #expect(ready["upstream"]?.stringValue == "paused")

            let write = try await gateway.call(
                .post, "/v1/merchants/\(Self.m2)/controls/blocked-domains", json: #"{"domain":"after-pause.example.com"}"#,
                headers: ["Prefer": "respond-async"])
            #expect(write.status == 202)
            let location = try #require(write.headers["Location"])
            await Self.letTheSchedulerLook(gateway)
            #expect(gateway.sandbox.requestLog.isEmpty)

            clock.advance(by: .seconds(20))
            #expect(await eventually { (try? await gateway.call(.get, location))?["state"]?.stringValue == "succeeded" })
            let scrape = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(Self.sample(scrape, "rokt_gateway_upstream_pauses_total") == 1)
            #expect(Self.sample(scrape, #"rokt_gateway_upstream_calls_held_total{reason="rokt_retry_after"}"#) == 1)
            #expect(try await gateway.call(.get, "/readyz", anonymous: true).text == #"{"status":"ready"}"#)
        }
    }

    @Test func aRetryOverTheBudgetIsDeferredNeverFailedAndRunsOnceTheWindowHasRoom() async throws {
        let clock = ManualMonotonicClock()
        var engine = Self.engine(clock)
        // One retry per window, whatever the first attempts; the window slides only when the test moves the clock.
        engine.retryBudget = RetryBudgetSettings(percent: 1, minimumPerWindow: 1, window: .seconds(1))
        try await withGateway(engine: engine) { gateway in
            gateway.sandbox.faults.failNext(2, method: "PUT", path: Self.roktControls, status: 503)
            let write = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"budget.example.com"}"#,
                headers: ["Prefer": "respond-async"])
            let location = try #require(write.headers["Location"])
            // The first attempt and the one retry the window allows fail; the next retry is deferred, and again when it comes back.
            #expect(await eventually { gateway.services.engine.retryBudgetExhausted >= 2 })
            #expect(gateway.upstream("PUT").count == 2)
            let deferred = try await gateway.call(.get, location)
            #expect(["queued", "running"].contains(deferred["state"]?.stringValue ?? ""))
            // Two sends; the deferrals count none.
            #expect(deferred["attempts"]?.int == 2)

            clock.advance(by: .seconds(1))
            #expect(await eventually { (try? await gateway.call(.get, location))?["state"]?.stringValue == "succeeded" })
            #expect(gateway.upstream("PUT").map(\.status) == [503, 503, 200])
            let scrape = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect((Self.sample(scrape, "rokt_gateway_upstream_retry_budget_exhausted_total") ?? 0) >= 2)
        }
    }

    @Test func aFloodOfReadsByOneCallerReachesRoktNoFasterThanTheLimit() async throws {
        let rate = 20
        let burst = 5
        let concurrent = 4
        try await withGateway(configure: {
            $0.upstream = UpstreamProtectionSettings(
                limits: UpstreamLimits(requestsPerSecond: Double(rate), burst: burst, maxConcurrent: concurrent, maxWait: .seconds(60)))
        }) { gateway in
            let reader = try await gateway.makeKey([.read])
            gateway.sandbox.resetRequestLog()
            let calls = 40
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<calls {
                    group.addTask { try await gateway.call(.get, "/v1/merchants/\(Self.m1)/controls", key: reader).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Every caller waited its turn; none was refused.
            #expect(statuses == Array(repeating: 200, count: calls))
            let times = gateway.upstream("GET").map(\.receivedAt).sorted()
            try #require(times.count == calls)
            // By the sandbox's own clock: in any second, at most the burst and a second's worth. A
            // call is in flight from its turn until its answer, so transit delays on a loaded
            // machine can bunch at most `maxConcurrent` of them more into one second.
            for (index, start) in times.enumerated() {
                let inOneSecond = times[index...].prefix { $0.timeIntervalSince(start) < 1 }.count
                #expect(inOneSecond <= burst + rate + concurrent, "\(inOneSecond) calls within a second from call \(index)")
            }
            let scrape = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect((Self.sample(scrape, "rokt_gateway_upstream_limiter_wait_seconds_count") ?? 0) >= Double(calls))
            #expect(Self.sample(scrape, #"rokt_gateway_upstream_calls_held_total{reason="limiter_wait"}"#) == 0)
        }
    }
}
