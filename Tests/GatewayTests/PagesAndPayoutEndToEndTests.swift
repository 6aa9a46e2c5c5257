import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite(.serialized) struct PagesEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let path = "/v1/merchants/\(SandboxDemo.merchant1)/pages"

    @Test func addsASurface() async throws {
        try await withGateway { gateway in
            let pagesBefore = gateway.sandbox.account(Self.m1)?.pages.count ?? 0
            let response = try await gateway.call(.post, Self.path, json: #"{"type":"returns","name":"Returns portal"}"#)
            #expect(response.status == 200)
            #expect(response["type"] == .string("page.create"))
            #expect(response["result"]?["type"] == .string("returns"))
            #expect(response["result"]?["layoutId"]?.stringValue != nil)
            let pages = gateway.sandbox.account(Self.m1)?.pages ?? []
            #expect(pages.count == pagesBefore + 1)
            #expect(pages.last?.name == "Returns portal")
        }
    }

    @Test func invalidSurfacesAre400() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let bad = try await gateway.call(.post, Self.path, json: #"{"type":"checkout","name":"  ","extra":1}"#)
            #expect(bad.status == 400)
            #expect(Set(bad["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? []) == ["type", "name", "extra"])
            #expect(try await gateway.call(.post, Self.path, json: #"{"name":"x"}"#)["errors"]?.array?.first?["field"] == .string("type"))
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func upstream4xxFailsOnceAnd5xxIsRetriedWithOneKey() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(1, method: "POST", path: "/v1/partnership/accounts/*/pages", status: 400)
            gateway.sandbox.resetRequestLog()
            let rejected = try await gateway.call(.post, Self.path, json: #"{"type":"tracking"}"#)
            #expect(rejected.status == 400)
            #expect(rejected["code"] == .string("upstream_rejected"))
            #expect(rejected["upstream"]?["requestId"]?.stringValue != nil)
            #expect(gateway.upstream("POST").count == 1)

            gateway.sandbox.faults.failNext(1, method: "POST", path: "/v1/partnership/accounts/*/pages", status: 502)
            gateway.sandbox.resetRequestLog()
            let retried = try await gateway.call(.post, Self.path, json: #"{"type":"tracking"}"#)
            #expect(retried.status == 200)
            let posts = gateway.upstream("POST")
            #expect(posts.map(\.status) == [502, 201])
            #expect(Set(posts.compactMap { $0.header("Idempotency-Key") }).count == 1)
        }
    }
}

@Suite(.serialized) struct PayoutEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let path = "/v1/merchants/\(SandboxDemo.merchant1)/payout-setup"
    static let rokt = "/v1/partnership/accounts/*/payout-setup"

    @Test func returnsTheOnboardingLink() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.post, Self.path, json: #"{"returnUrl":"https://partner.example.com/done"}"#)
            #expect(response.status == 200)
            #expect(response["type"] == .string("payout.setup"))
            #expect(response["result"]?["onboardingUrl"]?.stringValue?.hasPrefix("https://connect.stripe.com/") == true)
            // No body at all is fine too.
            #expect(try await gateway.call(.post, Self.path).status == 200)
        }
    }

    @Test func retryAfter503ReusesTheKey() async throws {
        try await withGateway { gateway in
            // The setup reached Rokt (and Stripe) before the 503: only the same key keeps it from happening twice.
            gateway.sandbox.faults.failNext(1, method: "POST", path: Self.rokt, status: 503, timing: .afterApplying)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, Self.path)
            #expect(response.status == 200)
            let posts = gateway.upstream("POST", pathSuffix: "/payout-setup")
            try #require(posts.map(\.status) == [503, 200])
            #expect(posts[0].header("Idempotency-Key") != nil)
            #expect(posts[0].header("Idempotency-Key") == posts[1].header("Idempotency-Key"))
            #expect(posts[1].replayed)
        }
    }

    @Test func retryAfterTimeoutReusesTheKey() async throws {
        try await withGateway(roktTimeout: .milliseconds(300)) { gateway in
            gateway.sandbox.faults.addLatency(milliseconds: 1000, method: "POST", path: Self.rokt, count: 1)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, Self.path)
            #expect(response.status == 200)
            // The timed-out request is still sleeping in the sandbox: the gateway's call log has both attempts.
            let calls = response["upstream"]?.array ?? []
            #expect(calls.first?["error"]?.stringValue?.contains("timedOut") == true)
            let keys = calls.compactMap { $0["idempotencyKey"]?.stringValue }
            #expect(keys.count == 2)
            #expect(Set(keys).count == 1)
        }
    }

    @Test func dryRunAndBadURLsAre400AndNothingIsSent() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read])
            gateway.sandbox.resetRequestLog()
            let dry = try await gateway.call(.post, Self.path + "?dry_run=true")
            #expect(dry.status == 400)
            #expect(dry["code"] == .string("dry_run_not_supported"))
            let bad = try await gateway.call(.post, Self.path, json: #"{"returnUrl":"javascript:alert(1)","refreshUrl":42}"#)
            #expect(bad.status == 400)
            #expect(Set(bad["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? []) == ["returnUrl", "refreshUrl"])
            #expect(try await gateway.call(.post, Self.path, key: reader).status == 403)
            #expect(try await gateway.call(.post, Self.path, anonymous: true).status == 401)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func upstreamRefusalOfAForeignAccountIsSurfaced() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.otherMerchant)/payout-setup")
            // Rokt's 403 for an account the manager does not manage: to our caller, an unknown merchant.
            #expect(response.status == 404)
            #expect(response["code"] == .string("merchant_not_managed"))
            #expect(response["upstream"]?["status"]?.int == 403)
            #expect(gateway.upstream("POST").count == 1)
        }
    }
}
