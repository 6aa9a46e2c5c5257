import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// Every route whose path parameters become segments of Rokt paths refuses an id outside the
/// safe set with a 400 naming the parameter, before the key, the store or Rokt are involved.
@Suite struct PathParameterValidationTests {
    struct Route: Sendable, CustomStringConvertible {
        var method: HTTPMethod
        /// `{a}` is replaced by the account id, `{l}` by the layout id.
        var template: String
        var body: String?
        var description: String { "\(method.rawValue) \(template)" }
    }

    static let routes: [Route] = [
        Route(method: .get, template: "/v1/merchants/{a}/controls"),
        Route(method: .put, template: "/v1/merchants/{a}/controls", body: #"{"blockedVerticals":[],"blockedDomains":[]}"#),
        Route(method: .patch, template: "/v1/merchants/{a}/controls", body: #"{"add":{"domains":["a.example"]}}"#),
        Route(method: .post, template: "/v1/merchants/{a}/controls/blocked-verticals", body: #"{"partnerVerticalId":1500,"partnerSubVerticalId":1600}"#),
        Route(method: .delete, template: "/v1/merchants/{a}/controls/blocked-verticals/1500"),
        Route(method: .post, template: "/v1/merchants/{a}/controls/blocked-domains", body: #"{"domain":"a.example"}"#),
        Route(method: .delete, template: "/v1/merchants/{a}/controls/blocked-domains/a.example"),
        Route(method: .get, template: "/v1/merchants/{a}/status"),
        Route(method: .post, template: "/v1/merchants/{a}/pause"),
        Route(method: .post, template: "/v1/merchants/{a}/resume"),
        Route(method: .patch, template: "/v1/merchants/{a}/layouts/{l}/theme", body: ##"{"textColor":"#000000"}"##),
        Route(method: .post, template: "/v1/merchants/{a}/pages", body: #"{"type":"tracking"}"#),
        Route(method: .post, template: "/v1/merchants/{a}/payout-setup"),
        Route(method: .post, template: "/v1/merchants/{a}/data-deletion-requests"),
    ]

    /// Encoded as they travel; each decodes to an id outside the safe set.
    static let badIds = ["%2E%2E", "%2E", "%2e%2E", "a%2Fb", "a%20b", "caf%C3%A9", "a%3Fb", String(repeating: "x", count: 129)]

    @Test func everyRouteRefusesUnsafeAccountAndLayoutIds() async throws {
        // Hundreds of refused writes by one key: more than its write budget allows.
        try await withGateway(configure: { $0.rateLimits.enabled = false }) { gateway in
            let before = gateway.sandbox.requestLog.count
            for route in Self.routes {
                for bad in Self.badIds {
                    var cases = [("accountId", route.template.replacingOccurrences(of: "{a}", with: bad).replacingOccurrences(of: "{l}", with: "ly-1"))]
                    if route.template.contains("{l}") {
                        cases.append(("layoutId", route.template.replacingOccurrences(of: "{a}", with: SandboxDemo.merchant1).replacingOccurrences(of: "{l}", with: bad)))
                    }
                    for (parameter, path) in cases {
                        let response = try await gateway.call(route.method, path, json: route.body, headers: ["Idempotency-Key": "k-\(UUID().uuidString)"])
                        #expect(response.status == 400, "\(route) \(parameter)=\(bad)")
                        #expect(response["code"]?.stringValue == "validation_failed", "\(route) \(parameter)=\(bad)")
                        #expect(response["errors"]?.array?.first?["field"]?.stringValue == parameter, "\(route) \(parameter)=\(bad)")
                    }
                }
            }
            #expect(gateway.sandbox.requestLog.count == before)
            let operations = try await gateway.call(.get, "/v1/operations")
            #expect(operations["data"]?.array?.isEmpty == true)
        }
    }

    @Test func theCheckComesBeforeAuthentication() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.get, "/v1/merchants/%2E%2E/controls", anonymous: true)
            #expect(response.status == 400)
            #expect(response["errors"]?.array?.first?["field"]?.stringValue == "accountId")
        }
    }

    @Test func safeIdsAtTheBoundStillReachRokt() async throws {
        try await withGateway { gateway in
            // 128 characters of the whole safe alphabet: valid, so Rokt answers (not managed → 404).
            let longest = String(String(repeating: "Az09._~-", count: 16).prefix(128))
            let response = try await gateway.call(.get, "/v1/merchants/\(longest)/controls")
            #expect(response.status == 404)
            #expect(gateway.upstream("GET").last?.path.contains(longest) == true)
            #expect(try await gateway.call(.get, "/v1/merchants/...x/status").status != 400)
        }
    }
}
