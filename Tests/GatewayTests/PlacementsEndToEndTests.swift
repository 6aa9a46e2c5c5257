import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite struct PlacementsEndToEndTests {
    static let path = "/v1/placements/any"
    static let upstreamPath = "/v1/Placements/any"
    static let body = #"{"cartId":"c-1","pageIdentifier":"checkout.upsell","url":"https://shop.example/checkout","attributes":{"country":"US","locale":"en-US"}}"#

    /// A budget no loaded test run exhausts, for the tests about what Rokt answered (the budget has its own tests below).
    static let ample: Duration = .seconds(10)

    @Test func answersRoktsResultWithServerCredentialsAndTheConsumersHeaders() async throws {
        try await withGateway(configure: { $0.placementsTimeout = Self.ample }) { gateway in
            let key = try await gateway.makeKey([.read])
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, Self.path, json: Self.body, key: key,
                headers: [
                    "rokt-session-id": "sess-42", "Accept-Language": "en-AU", "User-Agent": "Checkout/1.0 (BFF)",
                ])
            #expect(response.status == 200)
            #expect(response.text == #"{"result":true}"#)
            let sent = try #require(gateway.upstream("POST", pathSuffix: Self.upstreamPath).first)
            #expect(sent.status == 200)
            #expect(sent.header("rokt-api-key") == SandboxDemo.ecommerceApiKey)
            #expect(sent.header("rokt-tag-id") == SandboxDemo.tagId)
            #expect(sent.header("rokt-session-id") == "sess-42")
            #expect(sent.header("Accept-Language") == "en-AU")
            #expect(sent.header("User-Agent") == "Checkout/1.0 (BFF)")
            #expect(sent.header("Authorization") == nil)  // the caller's gateway key never travels to Rokt
            let forwarded = try JSONDecoder().decode(JSONValue.self, from: Data(sent.body.utf8))
            #expect(forwarded["pageIdentifier"] == .string("checkout.upsell"))
            #expect(forwarded["attributes"]?["country"] == .string("US"))
            #expect(try await Self.outcomeCount(gateway, "ok") == 1)
        }
    }

    @Test func invalidBodyIs400NamingEveryFieldAndReachesNoOne() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, Self.path, json: #"{"url":"ftp://x","attributes":{"n":1},"extra":true}"#)
            #expect(response.status == 400)
            #expect(response["code"] == .string("validation_failed"))
            let fields = Set(response["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? [])
            #expect(fields == ["pageIdentifier", "url", "attributes.n", "extra"])
            #expect(gateway.upstream(pathSuffix: Self.upstreamPath).isEmpty)
        }
    }

    @Test func needsAKeyWithReadScope() async throws {
        try await withGateway { gateway in
            let webhooksOnly = try await gateway.makeKey([.webhooks])
            #expect(try await gateway.call(.post, Self.path, json: Self.body, anonymous: true).status == 401)
            let forbidden = try await gateway.call(.post, Self.path, json: Self.body, key: webhooksOnly)
            #expect(forbidden.status == 403)
            #expect(gateway.upstream(pathSuffix: Self.upstreamPath).isEmpty)
        }
    }

    @Test func roktErrorUnderSkipDegradesAtOnce() async throws {
        try await withGateway(configure: { $0.placementsTimeout = Self.ample }) { gateway in
            gateway.sandbox.faults.failNext(method: "POST", path: Self.upstreamPath, status: 500)
            let response = try await gateway.call(.post, Self.path, json: Self.body)
            #expect(response.status == 200)
            #expect(response["result"] == .bool(false))
            #expect(response["degraded"] == .bool(true))
            #expect(gateway.upstream(pathSuffix: Self.upstreamPath).count == 1)  // never retried
            #expect(try await Self.outcomeCount(gateway, "degraded") == 1)
        }
    }

    /// A Rokt 4xx is a 502 too: the caller's body passed our validation, so it is not the caller's fault.
    @Test(arguments: [503, 403, 422])
    func roktErrorUnderErrorPolicyIs502WithRoktsStatus(status: Int) async throws {
        try await withGateway(configure: {
            $0.placementsOnError = .error
            $0.placementsTimeout = Self.ample
        }) { gateway in
            gateway.sandbox.faults.failNext(method: "POST", path: Self.upstreamPath, status: status)
            let response = try await gateway.call(.post, Self.path, json: Self.body)
            #expect(response.status == 502)
            #expect(response.headers["Content-Type"] == "application/problem+json")
            #expect(response["code"] == .string("upstream_error"))
            #expect(response["upstream"]?["status"]?.int == status)
            #expect(response["upstream"]?["requestId"]?.stringValue != nil)
            #expect(try await Self.outcomeCount(gateway, "error") == 1)
        }
    }

    @Test func unreachableRoktUnderErrorPolicyIs502Unreachable() {
        let refused = RoktError(
            kind: .transport, status: nil, code: "connectFailed", message: "connection refused", requestId: nil,
            retryAfter: nil, mayHaveReachedRokt: false)
        let problem = PlacementsRoutes.problem(for: refused, timedOut: false, budget: .milliseconds(300))
        #expect(problem.status == 502 && problem.code == "upstream_unreachable")
        #expect(PlacementsRoutes.problem(for: refused, timedOut: true, budget: .milliseconds(300)).status == 504)
    }

    @Test func slowRoktUnderSkipDegradesWithinTheBudget() async throws {
        try await withGateway(configure: { $0.placementsTimeout = .milliseconds(200) }) { gateway in
            // Rokt answers after 60 s: any answer before that came from the budget (the bound is a
            // ceiling a loaded machine running the whole suite never reaches, not a measurement).
            gateway.sandbox.faults.addLatency(milliseconds: 60_000, method: "POST", path: Self.upstreamPath)
            let started = ContinuousClock.now
            let response = try await gateway.call(.post, Self.path, json: Self.body)
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 200)
            #expect(response.text == #"{"degraded":true,"result":false}"#)
            #expect(elapsed >= .milliseconds(200))
            #expect(elapsed < .seconds(30))
            #expect(try await Self.outcomeCount(gateway, "timeout") == 1)
        }
    }

    @Test func slowRoktUnderErrorPolicyIs504() async throws {
        try await withGateway(configure: {
            $0.placementsTimeout = .milliseconds(150); $0.placementsOnError = .error
        }) { gateway in
            gateway.sandbox.faults.addLatency(milliseconds: 60_000, method: "POST", path: Self.upstreamPath)
            let started = ContinuousClock.now
            let response = try await gateway.call(.post, Self.path, json: Self.body)
            #expect(ContinuousClock.now - started < .seconds(30))  // the 150 ms budget, not Rokt's 60 s
            #expect(response.status == 504)
            #expect(response["code"] == .string("placements_timeout"))
            #expect(try await Self.outcomeCount(gateway, "timeout") == 1)
        }
    }

    /// `rokt_gateway_placements_total{outcome=…}` from `/metrics`.
    static func outcomeCount(_ gateway: GatewayHarness, _ outcome: String) async throws -> Int? {
        let prefix = #"rokt_gateway_placements_total{outcome=""# + outcome + #""} "#
        let text = try await gateway.call(.get, "/metrics", anonymous: true).text
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }
}
