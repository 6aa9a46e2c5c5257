import HTTP
import Testing
@testable import Gateway

/// The fields and the 429 as a client reads them off a real socket, from an in-process server
/// whose one route is limited with `CallerRateLimits` alone (the gateway's own routes are wired
/// elsewhere; this checks what they will serialise).
@Suite struct RateLimitSocketTests {
    @Test func aCallerPastItsBurstGets429WithRetryAfterAndTheOthersAreServed() async throws {
        var configuration = RateLimitConfiguration()
        configuration.write = RateLimitPolicy(.write, perSecond: 0.01, burst: 2)
        // Time stands still, so the fields' seconds are exact however long the exchanges take.
        let clock = ManualMonotonicClock()
        let limits = CallerRateLimits(configuration: configuration, now: { clock.now() })
        var router = Router()
        router.post("/v1/things") { request in
            let caller = RateLimitPartition.apiKey(id: request.headers["Authorization"] ?? "-")
            let decision = limits.admit(partition: caller, class: .write)
            if let refusal = decision.refusal { return refusal.response() }
            var response = HTTPResponse(status: .ok, body: "done")
            decision.apply(to: &response)
            return response
        }
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let server = try HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), group: group, router: router)
        let port = try server.start()
        func post(as caller: String) async throws -> String {
            try await PlainConnection.exchange(
                port: port, "POST /v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: \(caller)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        }

        let first = try await post(as: "alice")
        #expect(first.hasPrefix("HTTP/1.1 200 "))
        #expect(first.contains("\r\nRateLimit-Policy: \"write\";q=2;w=200\r\n"))
        #expect(first.contains("\r\nRateLimit: \"write\";r=1;t=100\r\n"))
        #expect(try await post(as: "alice").contains("\r\nRateLimit: \"write\";r=0;t=200\r\n"))

        let refused = try await post(as: "alice")
        #expect(refused.hasPrefix("HTTP/1.1 429 Too Many Requests\r\n"))
        #expect(refused.contains("\r\nRetry-After: 100\r\n"))
        #expect(refused.contains("\r\nRateLimit: \"write\";r=0;t=100\r\n"))
        #expect(refused.contains("\r\nRateLimit-Policy: \"write\";q=2;w=200\r\n"))
        #expect(refused.contains("\r\nContent-Type: application/problem+json\r\n"))
        #expect(refused.contains(#""code":"rate_limited""#) && !refused.contains("alice\""))

        #expect(try await post(as: "bob").hasPrefix("HTTP/1.1 200 "))
        await server.shutdown(gracePeriod: .seconds(5))
    }
}
