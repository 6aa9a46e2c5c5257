@testable import HTTP
import RoktSandbox
import Synchronization
import Testing
@testable import Rokt

/// The client against the real sandbox, through its protection: what counts against Rokt's
/// health, a call held back is never sent nor observed, and a 429's Retry-After pauses the client.
@Suite struct RoktClientProtectionTests {
    @Test func answersAndTransportFailuresAreJudgedAsRoktsHealth() {
        for status in [200, 202, 400, 404, 409, 422] { #expect(RoktClient.health(status: status) == .healthy, "\(status)") }
        for status in [408, 429, 500, 502, 503, 504] { #expect(RoktClient.health(status: status) == .failing, "\(status)") }
        #expect(RoktClient.health(of: HTTPClientError(.timedOut, reached: false, "x")) == .failing)
        #expect(RoktClient.health(of: HTTPClientError(.connectFailed, reached: false, "x")) == .failing)
        #expect(RoktClient.health(of: HTTPClientError(.cancelled, reached: false, "x")) == .neutral)
        #expect(RoktClient.health(of: HTTPClientError(.poolTimeout, reached: false, "x")) == .neutral)
    }

    @Test func failuresOpenTheCircuitThenCallsAreHeldUnsentAndUnobserved() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let sandbox = RoktSandbox(configuration: RoktSandbox.Configuration(seed: .demo))
        _ = try sandbox.start(host: "127.0.0.1", port: 0, group: group)
        let http = HTTPClient(group: group)
        let observed = Mutex(0)
        let client = RoktClient(
            configuration: RoktConfiguration(baseURL: sandbox.baseURL, token: SandboxDemo.token, parentAccountId: SandboxDemo.parentAccountId),
            http: http, now: { 1_796_472_000_000 },
            protection: UpstreamProtection(
                settings: UpstreamProtectionSettings(breaker: CircuitBreakerSettings(failureThreshold: 2, openDuration: .seconds(600)), maxPause: .seconds(60))),
            observe: { _ in observed.withLock { $0 += 1 } })
        sandbox.faults.failNext(1, method: "GET", status: 503)
        sandbox.faults.failNext(1, method: "GET", status: 429, retryAfterSeconds: 30)
        #expect(await client.getControls(SandboxDemo.merchant1).call.status == 503)
        let limited = await client.getControls(SandboxDemo.merchant1)
        #expect(limited.call.status == 429)
        #expect(throws: RoktError.self) { try limited.result.get() }
        #expect(limited.result.failureValue?.retryAfter == .seconds(30))
        #expect(client.protection.snapshot.circuit == "open")

        sandbox.resetRequestLog()
        let held = await client.getStatus(SandboxDemo.merchant2)
        #expect(held.result.failureValue?.kind == .notSent)
        #expect(held.result.failureValue?.code == "circuit_open")
        #expect(held.result.failureValue?.isRetryable == true)
        #expect(held.call.held == true && held.call.status == nil)
        #expect(sandbox.requestLog.isEmpty)
        #expect(observed.withLock { $0 } == 2)
        http.shutdown()
        await sandbox.shutdown()
        group.shutdown()
    }
}

extension Result {
    fileprivate var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
