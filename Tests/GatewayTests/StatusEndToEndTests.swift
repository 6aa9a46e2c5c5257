import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite struct StatusEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let m3 = SandboxDemo.merchant3

    @Test func pauseCascadesAndIsChecked() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause")
            #expect(response.status == 200)
            #expect(response["type"] == .string("status.pause"))
            #expect(response["changed"] == .bool(true))
            #expect(response["result"]?["status"] == .string("paused"))
            let status = try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status")
            #expect(status["status"] == .string("paused"))
            // GET (already there?), PUT, GET (checked), then our read.
            #expect(gateway.sandbox.requestLog.map { "\($0.method) \($0.status ?? 0)" } == ["GET 200", "PUT 200", "GET 200", "GET 200"])
            let resume = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/resume")
            #expect(resume["result"]?["status"] == .string("active"))
        }
    }

    @Test func pausingWhatIsPausedSendsNoPut() async throws {
        try await withGateway { gateway in
            _ = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause")
            gateway.sandbox.resetRequestLog()
            let again = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause")
            #expect(again["changed"] == .bool(false))
            #expect(gateway.upstream("PUT").isEmpty)
        }
    }

    @Test func archivedVariantsDoNotMakeSteadyStateMixed() async throws {
        try await withGateway { gateway in
            let status = try await gateway.call(.get, "/v1/merchants/\(Self.m3)/status")
            #expect(status["status"] == .string("active"))
            let paused = try await gateway.call(.post, "/v1/merchants/\(Self.m3)/pause")
            #expect(paused.status == 200)
            #expect(paused["result"]?["status"] == .string("paused"))
        }
    }

    @Test func mixedOnceIsReissuedWithAFreshKeyAndSucceeds() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.leaveVariantsStuck([SandboxDemo.merchant1Variants[0]], of: Self.m1, forNextCascades: 1)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause")
            #expect(response.status == 200)
            let puts = gateway.upstream("PUT")
            #expect(puts.count == 2)
            #expect(Set(puts.compactMap { $0.header("Idempotency-Key") }).count == 2)
        }
    }

    @Test func cascadeStuckBeyondTheRetriesFailsWithTheEvidence() async throws {
        try await withGateway { gateway in
            let stuck = SandboxDemo.merchant1Variants[1]
            gateway.sandbox.faults.leaveVariantsStuck([stuck], of: Self.m1, forNextCascades: 10)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause")
            #expect(response.status == 502)
            #expect(response["code"] == .string("cascade_incomplete"))
            #expect(response["operationId"]?.stringValue != nil)
            let context = try #require(response["context"])
            #expect(context["stuckVariants"]?.array?.compactMap { $0["pageVariantId"]?.stringValue } == [stuck])
            let puts = gateway.upstream("PUT")
            #expect(puts.count == 3)  // the first PUT and two re-issues
            #expect(context["idempotencyKeys"]?.array?.compactMap(\.stringValue) == puts.compactMap { $0.header("Idempotency-Key") })
            #expect(context["requestIds"]?.array?.count == 3)
        }
    }

    @Test func statusDryRunChangesNothing() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/pause?dry_run=true")
            #expect(response.status == 200)
            #expect(response["dryRun"] == .bool(true))
            #expect(response["after"]?["status"] == .string("paused"))
            #expect(try await gateway.call(.get, "/v1/merchants/\(Self.m1)/status")["status"] == .string("active"))
        }
    }
}

@Suite struct OperationsAPITests {
    @Test func operationsAreListedNewestFirstWithCursorAndFilters() async throws {
        try await withGateway { gateway in
            for domain in ["a.example.com", "b.example.com", "c.example.com"] {
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains", json: #"{"domain":"\#(domain)"}"#)
            }
            _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant2)/pause")
            let page1 = try await gateway.call(.get, "/v1/operations?merchantId=\(SandboxDemo.merchant1)&limit=2")
            let ids1 = page1["data"]?.array?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids1.count == 2)
            let cursor = try #require(page1["nextCursor"]?.stringValue)
            let page2 = try await gateway.call(.get, "/v1/operations?merchantId=\(SandboxDemo.merchant1)&limit=2&after=\(cursor)")
            let ids2 = page2["data"]?.array?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids2.count == 1)
            #expect(page2["nextCursor"] == .null)
            #expect(ids1 == ids1.sorted(by: >) && ids1.last! > ids2[0])
            let succeeded = try await gateway.call(.get, "/v1/operations?state=succeeded")
            #expect(succeeded["data"]?.array?.count == 4)
            let one = try await gateway.call(.get, "/v1/operations/\(ids2[0])")
            #expect(one["request"]?["domain"] == .string("a.example.com"))
            #expect(one["upstream"]?.array?.isEmpty == false)
            #expect(try await gateway.call(.get, "/v1/operations?limit=0").status == 400)
            #expect(try await gateway.call(.get, "/v1/operations/op_missing").status == 404)
        }
    }
}
