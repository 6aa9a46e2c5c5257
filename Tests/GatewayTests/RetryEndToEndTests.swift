import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite struct RetryEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let controls = "/v1/partnership/accounts/*/marketplacecontrolslists"

    @Test func rateLimitIsRetriedNoSoonerThanRetryAfter() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(1, method: "PUT", path: Self.controls, status: 429, retryAfterSeconds: 1)
            gateway.sandbox.resetRequestLog()
            let started = ContinuousClock.now
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"later.example.com"}"#)
            #expect(response.status == 200)
            #expect(ContinuousClock.now - started >= .seconds(1))
            let puts = gateway.upstream("PUT")
            try #require(puts.map(\.status) == [429, 200])
            #expect(puts[0].header("Idempotency-Key") == puts[1].header("Idempotency-Key"))
        }
    }

    @Test func droppedConnectionIsRetriedWithTheSameKeyAndAppliedOnce() async throws {
        try await withGateway { gateway in
            // Rokt applies the write, then the connection dies before the answer: only the key makes the retry safe.
            gateway.sandbox.faults.dropNext(1, method: "PUT", path: Self.controls, timing: .afterApplying)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1560,"partnerSubVerticalId":1660}"#)
            #expect(response.status == 200)
            let puts = gateway.upstream("PUT")
            #expect(puts.count == 2)
            #expect(Set(puts.compactMap { $0.header("Idempotency-Key") }).count == 1)
            #expect(puts.last?.replayed == true)
            #expect(gateway.sandbox.controls(of: Self.m1)!.blockedVerticals.map(\.partnerVerticalId) == [1560])
        }
    }

    @Test func upstreamTimeoutIsRetried() async throws {
        var engine = EngineConfiguration.forTests
        engine.retry = RetryPolicy(base: .milliseconds(20), cap: .milliseconds(50), maxAge: .seconds(3600))
        try await withGateway(engine: engine, roktTimeout: .milliseconds(300)) { gateway in
            gateway.sandbox.faults.addLatency(milliseconds: 1000, method: "PUT", count: 1)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"slow.example.com"}"#)
            #expect(response.status == 200)
            let calls = response["upstream"]?.array ?? []
            #expect(calls.contains { $0["error"]?.stringValue?.contains("timedOut") == true })
            #expect(gateway.sandbox.controls(of: Self.m1)!.domains.map(\.domain) == ["slow.example.com"])
        }
    }

    @Test func keyOlderThan23HoursIsNeverResentTheChangeStartsOver() async throws {
        let clock = ManualWallClock()
        var engine = EngineConfiguration.forTests
        engine.retry = RetryPolicy(base: .milliseconds(20), cap: .milliseconds(50), maxAge: .seconds(48 * 3600))
        try await withGateway(engine: engine, clock: clock) { gateway in
            gateway.sandbox.faults.failNext(1, method: "PUT", path: Self.controls, status: 503)
            gateway.sandbox.resetRequestLog()
            let accepted = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-domains",
                json: #"{"domain":"old.example.com"}"#, headers: ["Prefer": "respond-async"])
            let id = try #require(accepted["id"]?.stringValue)
            for _ in 0..<200 where gateway.upstream("PUT").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            clock.advance(by: .seconds(23 * 3600 + 60))
            var state = ""
            for _ in 0..<300 where state != "succeeded" {
                try await Task.sleep(for: .milliseconds(20))
                clock.advance(by: .milliseconds(100))  // the manual clock moves only when told to
                state = try await gateway.call(.get, "/v1/operations/\(id)")["state"]?.stringValue ?? ""
            }
            #expect(state == "succeeded")
            let puts = gateway.upstream("PUT")
            try #require(puts.map(\.status) == [503, 200])
            #expect(puts[0].header("Idempotency-Key") != puts[1].header("Idempotency-Key"))
            // Started over: a fresh read came before the new key was used.
            #expect(gateway.upstream("GET", pathSuffix: "/marketplacecontrolslists").count == 2)
        }
    }
}
