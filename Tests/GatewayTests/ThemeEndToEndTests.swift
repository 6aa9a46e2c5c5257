import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite(.serialized) struct ThemeEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let layout = SandboxDemo.merchant1Layout
    static let path = "/v1/merchants/\(SandboxDemo.merchant1)/layouts/\(SandboxDemo.merchant1Layout)/theme"
    static let rokt = "/v1/partnership/accounts/*/layouts/*"

    @Test func sparseUpdateChangesOnlyTheTokensSent() async throws {
        try await withGateway { gateway in
            let before = try #require(gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.patch, Self.path, json: ##"{"primaryColor":"#112233","borderRadius":12.5}"##)
            #expect(response.status == 200)
            #expect(response["type"] == .string("layout.theme"))
            #expect(response["result"]?["primaryColor"] == .string("#112233"))
            let after = try #require(gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme)
            #expect(after.primaryColor == "#112233")
            #expect(after.borderRadius == 12.5)
            #expect(after.backgroundColor == before.backgroundColor)
            #expect(after.textColor == before.textColor)
            let patches = gateway.upstream("PATCH")
            #expect(patches.count == 1)
            #expect(patches.first?.body == ##"{"borderRadius":12.5,"primaryColor":"#112233"}"##)  // only what was sent
        }
    }

    @Test func invalidTokensAre400NamingEachAndNothingIsSent() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let cases: [(String, Set<String>)] = [
                (##"{"fontFamily":"Comic Sans"}"##, ["fontFamily"]),
                (##"{"primaryColor":"red","textColor":"#12345","closeButtonColor":"#GG0000"}"##, ["primaryColor", "textColor", "closeButtonColor"]),
                (##"{"backgroundColor":"#11223344","borderRadius":65}"##, ["borderRadius"]),
                (##"{"borderRadius":-1}"##, ["borderRadius"]),
                (##"{"borderRadius":"8px"}"##, ["borderRadius"]),
                (##"{"textColor":null}"##, ["textColor"]),
                (##"{}"##, ["body"]),
            ]
            for (body, fields) in cases {
                let response = try await gateway.call(.patch, Self.path, json: body)
                #expect(response.status == 400, "\(body)")
                #expect(Set(response["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? []) == fields, "\(body)")
            }
            #expect(try await gateway.call(.patch, Self.path, json: "").status == 400)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func unknownLayoutFailsWithRoktsMessageAndIsNotRetried() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.patch, "/v1/merchants/\(Self.m1)/layouts/no-such-layout/theme", json: ##"{"textColor":"#000000"}"##)
            #expect(response.status == 404)
            #expect(response["code"] == .string("upstream_not_found"))
            #expect(response["upstream"]?["message"]?.stringValue?.contains("no-such-layout") == true)
            #expect(response["operationId"]?.stringValue != nil)
            #expect(gateway.upstream("PATCH").count == 1)
        }
    }

    @Test func serverErrorsAreRetriedWithOneKey() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(2, method: "PATCH", path: Self.rokt, status: 503)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.patch, Self.path, json: ##"{"textColor":"#010203"}"##)
            #expect(response.status == 200)
            let patches = gateway.upstream("PATCH")
            #expect(patches.map(\.status) == [503, 503, 200])
            #expect(Set(patches.compactMap { $0.header("Idempotency-Key") }).count == 1)
            #expect(response["upstream"]?.array?.count == 3)
        }
    }

    @Test func patchesOfOneLayoutLandInTheOrderTheyWereAccepted() async throws {
        try await withGateway { gateway in
            // The first is stuck retrying: the second must not overtake it.
            gateway.sandbox.faults.failNext(2, method: "PATCH", path: Self.rokt, status: 503)
            gateway.sandbox.resetRequestLog()
            let first = try await gateway.call(.patch, Self.path, json: ##"{"primaryColor":"#111111"}"##, headers: ["Prefer": "respond-async"])
            let second = try await gateway.call(.patch, Self.path, json: ##"{"primaryColor":"#222222"}"##, headers: ["Prefer": "respond-async"])
            #expect(first.status == 202 && second.status == 202)
            let id = try #require(second["id"]?.stringValue)
            var state = ""
            for _ in 0..<200 where state != "succeeded" {
                try await Task.sleep(for: .milliseconds(20))
                state = try await gateway.call(.get, "/v1/operations/\(id)")["state"]?.stringValue ?? ""
            }
            #expect(state == "succeeded")
            #expect(
                gateway.upstream("PATCH").map { $0.body.contains("#111111") ? "first \($0.status ?? 0)" : "second \($0.status ?? 0)" }
                    == ["first 503", "first 503", "first 200", "second 200"])
            #expect(gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme.primaryColor == "#222222")
        }
    }

    @Test func timeoutIsRetriedAndAppliedOnce() async throws {
        try await withGateway(roktTimeout: .milliseconds(300)) { gateway in
            gateway.sandbox.faults.addLatency(milliseconds: 1000, method: "PATCH", count: 1)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.patch, Self.path, json: ##"{"closeButtonColor":"#ABCDEF"}"##)
            #expect(response.status == 200)
            #expect((response["upstream"]?.array ?? []).contains { $0["error"]?.stringValue?.contains("timedOut") == true })
            #expect(Set(gateway.upstream("PATCH").compactMap { $0.header("Idempotency-Key") }).count == 1)
            #expect(gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme.closeButtonColor == "#ABCDEF")
        }
    }

    @Test func authFailuresSendNothing() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read])
            let m2Writer = try await gateway.makeKey([.write], merchants: [SandboxDemo.merchant2])
            gateway.sandbox.resetRequestLog()
            #expect(try await gateway.call(.patch, Self.path, json: ##"{"textColor":"#000000"}"##, anonymous: true).status == 401)
            #expect(try await gateway.call(.patch, Self.path, json: ##"{"textColor":"#000000"}"##, key: reader).status == 403)
            #expect(try await gateway.call(.patch, Self.path, json: ##"{"textColor":"#000000"}"##, key: m2Writer).status == 403)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func dryRunIsValidatedByRoktAndChangesNothing() async throws {
        try await withGateway { gateway in
            let before = gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.patch, Self.path + "?dry_run=true", json: ##"{"textColor":"#999999"}"##)
            #expect(response.status == 200)
            #expect(response["dryRun"] == .bool(true))
            #expect(response["after"]?["textColor"] == .string("#999999"))
            #expect(gateway.sandbox.layout(Self.layout, of: Self.m1)?.theme == before)
            #expect(gateway.upstream("PATCH").first?.query["dry_run"] == "true")
            #expect(try await gateway.call(.get, "/v1/operations")["data"]?.array?.isEmpty == true)
        }
    }
}
