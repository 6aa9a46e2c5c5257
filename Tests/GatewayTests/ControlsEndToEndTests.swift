import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite struct ControlsEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let m2 = SandboxDemo.merchant2

    @Test func readsControlsWithContentHashAndETag() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.get, "/v1/merchants/\(Self.m2)/controls")
            #expect(response.status == 200)
            #expect(response["blockedDomains"] == .array([.string("competitor.example.com")]))
            #expect(response["blockedVerticals"]?.array?.count == 2)
            let hash = try #require(response["contentHash"]?.stringValue)
            #expect(response.headers["ETag"] == "\"\(hash)\"")
            #expect(response.headers["X-Request-Id"] != nil)
        }
    }

    @Test func addVerticalKeepsExistingBlocksWithOneGetAndOnePut() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#)
            #expect(response.status == 200)
            #expect(response["state"] == .string("succeeded"))
            #expect(response["changed"] == .bool(true))
            #expect(response["type"] == .string("controls.add_vertical"))
            let verticals = gateway.sandbox.controls(of: Self.m2)!.blockedVerticals.map { "\($0.partnerVerticalId)/\($0.partnerSubVerticalId)" }
            #expect(verticals == ["1500/1610", "1502/1620", "1504/1612"])
            #expect(gateway.sandbox.controls(of: Self.m2)!.domains.map(\.domain) == ["competitor.example.com"])
            #expect(gateway.upstream("GET", pathSuffix: "/marketplacecontrolslists").count == 1)
            let puts = gateway.upstream("PUT", pathSuffix: "/marketplacecontrolslists")
            #expect(puts.count == 1)
            // The PUT carried the full list, the hash it was based on, and the key we logged.
            #expect(puts[0].body.contains("\"contentHash\""))
            let key = try #require(puts[0].header("Idempotency-Key"))
            let logged = response["upstream"]?.array?.compactMap { $0["idempotencyKey"]?.stringValue } ?? []
            #expect(logged == [key])
        }
    }

    @Test func addingWhatIsThereSucceedsUnchangedWithoutAPut() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1500,"partnerSubVerticalId":1610}"#)
            #expect(response.status == 200)
            #expect(response["changed"] == .bool(false))
            #expect(gateway.upstream("PUT").isEmpty)
            let removal = try await gateway.call(.delete, "/v1/merchants/\(Self.m2)/controls/blocked-domains/absent.example.com")
            #expect(removal["changed"] == .bool(false))
            #expect(gateway.upstream("PUT").isEmpty)
        }
    }

    @Test func domainIsNormalisedAndRemovable() async throws {
        try await withGateway { gateway in
            let added = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"Rival.Example.COM."}"#)
            #expect(added.status == 200)
            #expect(gateway.sandbox.controls(of: Self.m1)!.domains.map(\.domain) == ["rival.example.com"])
            let removed = try await gateway.call(.delete, "/v1/merchants/\(Self.m1)/controls/blocked-domains/RIVAL.example.com")
            #expect(removed["changed"] == .bool(true))
            #expect(gateway.sandbox.controls(of: Self.m1)!.domains.isEmpty)
        }
    }

    @Test(arguments: [#"{"domain":"https://x.com"}"#, #"{"domain":"x.com/a"}"#, #"{"domain":"x.com:80"}"#, #"{"domain":"a b.com"}"#, #"{"domain":"a..com"}"#])
    func notAHostnameIs400AndNothingIsSent(body: String) async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: body)
            #expect(response.status == 400)
            #expect(response.headers["Content-Type"] == "application/problem+json")
            #expect(response["code"] == .string("validation_failed"))
            #expect(response["errors"]?.array?.first?["field"] == .string("domain"))
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func removeVerticalNarrowedBySubVertical() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.delete, "/v1/merchants/\(Self.m2)/controls/blocked-verticals/1500?partnerSubVerticalId=1610")
            #expect(response["changed"] == .bool(true))
            #expect(gateway.sandbox.controls(of: Self.m2)!.blockedVerticals.map(\.partnerVerticalId) == [1502])
        }
    }

    @Test func patchAppliesAddsAndRemovesInOneWrite() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .patch, "/v1/merchants/\(Self.m2)/controls",
                json: """
                    {"add":{"verticals":[{"partnerVerticalId":1510,"partnerSubVerticalId":1650}],"domains":["new.example.com"]},
                     "remove":{"verticals":[{"partnerVerticalId":1502}],"domains":["competitor.example.com"]}}
                    """)
            #expect(response.status == 200)
            let controls = gateway.sandbox.controls(of: Self.m2)!
            #expect(controls.blockedVerticals.map { "\($0.partnerVerticalId)/\($0.partnerSubVerticalId)" } == ["1500/1610", "1510/1650"])
            #expect(controls.domains.map(\.domain) == ["new.example.com"])
            #expect(gateway.upstream("PUT").count == 1)
        }
    }

    @Test func putWithStaleHashIs409AndWithIfMatchIs412() async throws {
        try await withGateway { gateway in
            let body = #"{"blockedVerticals":[],"blockedDomains":[],"contentHash":"h_stale"}"#
            let response = try await gateway.call(.put, "/v1/merchants/\(Self.m2)/controls", json: body)
            #expect(response.status == 409)
            #expect(response["code"] == .string("stale_content_hash"))
            #expect(response["operationId"]?.stringValue?.hasPrefix("op_") == true)
            let viaHeader = try await gateway.call(
                .put, "/v1/merchants/\(Self.m2)/controls",
                json: #"{"blockedVerticals":[],"blockedDomains":[]}"#, headers: ["If-Match": "\"h_stale\""])
            #expect(viaHeader.status == 412)
            #expect(gateway.sandbox.controls(of: Self.m2)!.blockedVerticals.count == 2)
        }
    }

    @Test func putWithCurrentHashReplacesEverything() async throws {
        try await withGateway { gateway in
            let hash = try #require(try await gateway.call(.get, "/v1/merchants/\(Self.m2)/controls")["contentHash"]?.stringValue)
            let response = try await gateway.call(
                .put, "/v1/merchants/\(Self.m2)/controls",
                json: """
                    {"blockedVerticals":[{"partnerVerticalId":1501,"partnerSubVerticalId":1601}],"blockedDomains":["only.example.com"],"contentHash":"\(hash)"}
                    """)
            #expect(response.status == 200)
            let controls = gateway.sandbox.controls(of: Self.m2)!
            #expect(controls.blockedVerticals.map(\.partnerVerticalId) == [1501])
            #expect(controls.domains.map(\.domain) == ["only.example.com"])
        }
    }

    @Test func foreignEditBetweenOurGetAndPutSurvives() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.editControlsAfterNextGet(of: Self.m1, domains: [SandboxBlockedDomain(domain: "foreign.example.com", policy: "Block")])
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1520,"partnerSubVerticalId":1620}"#)
            #expect(response.status == 200)
            let controls = gateway.sandbox.controls(of: Self.m1)!
            #expect(controls.domains.map(\.domain) == ["foreign.example.com"])
            #expect(controls.blockedVerticals.map(\.partnerVerticalId) == [1520])
            let puts = gateway.upstream("PUT")
            #expect(puts.count == 2)
            #expect(puts.map(\.status) == [409, 200])
            // The second payload differs (it includes the foreign edit): a new key.
            #expect(Set(puts.compactMap { $0.header("Idempotency-Key") }).count == 2)
        }
    }

    @Test func threeUpstream503sThenSuccessUseOneKeyAndOneCommit() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(3, method: "PUT", path: "/v1/partnership/accounts/*/marketplacecontrolslists", status: 503)
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1530,"partnerSubVerticalId":1630}"#)
            #expect(response.status == 200)
            #expect(response["attempts"]?.int == 4)
            let puts = gateway.upstream("PUT")
            #expect(puts.map(\.status) == [503, 503, 503, 200])
            #expect(Set(puts.compactMap { $0.header("Idempotency-Key") }).count == 1)
            #expect(Set(puts.map(\.body)).count == 1)  // byte-identical retries
            #expect(gateway.sandbox.controls(of: Self.m1)!.blockedVerticals.count == 1)
        }
    }

    @Test func upstream400SurfacesRoktsMessageWithoutRetry() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals",
                json: #"{"partnerVerticalId":1700,"partnerSubVerticalId":1600}"#)
            #expect(response.status == 400)
            #expect(response["code"] == .string("upstream_rejected"))
            #expect(response["upstream"]?["status"]?.int == 400)
            #expect(response["upstream"]?["requestId"]?.stringValue != nil)
            #expect(response["detail"]?.stringValue?.contains("1700") == true)
            #expect(gateway.upstream("PUT").count == 1)
        }
    }

    @Test func oneUnmappedVerticalDoesNotFailTheChangesMergedWithIt() async throws {
        // The bisection takes six calls to Rokt, each with its store writes; the full suite starts
        // every test at once, and there this one took up to 31 s of wall time (twice in CI its
        // callers were answered 202 after a 10 s wait). The wait only bounds the test; the
        // statuses and the sandbox's state are the checks.
        try await withGateway(syncWait: .seconds(60)) { gateway in
            // Hold the first write so the next ones queue up behind it and are merged.
            gateway.sandbox.faults.addLatency(milliseconds: 300, method: "PUT", count: 1)
            async let first = gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"first.example.com"}"#)
            try await Task.sleep(for: .milliseconds(100))
            async let good = gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals", json: #"{"partnerVerticalId":1540,"partnerSubVerticalId":1640}"#)
            async let bad = gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals", json: #"{"partnerVerticalId":1800,"partnerSubVerticalId":1640}"#)
            async let alsoGood = gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"second.example.com"}"#)
            let results = try await [first, good, bad, alsoGood]
            #expect(results.map(\.status) == [200, 200, 400, 200])
            let controls = gateway.sandbox.controls(of: Self.m1)!
            #expect(Set(controls.domains.map(\.domain)) == ["first.example.com", "second.example.com"])
            #expect(controls.blockedVerticals.map(\.partnerVerticalId) == [1540])
        }
    }

    @Test func fiftyConcurrentAddsLoseNothingAndUseFarFewerPuts() async throws {
        try await withGateway(syncWait: .seconds(30)) { gateway in
            gateway.sandbox.resetRequestLog()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        try await gateway.call(
                            .post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals",
                            json: #"{"partnerVerticalId":\#(1500 + i),"partnerSubVerticalId":1600}"#
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            #expect(Set(gateway.sandbox.controls(of: Self.m1)!.blockedVerticals.map(\.partnerVerticalId)) == Set(1500..<1550))
            let puts = gateway.upstream("PUT").count
            #expect(puts <= 10, "\(puts) PUTs for 50 adds")
        }
    }

    @Test func upstreamOperationIsPolledNotResent() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.holdWritesPending(forPolls: 3, method: "PUT")
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"polled.example.com"}"#)
            #expect(response.status == 200)
            #expect(gateway.upstream("PUT").count == 1)
            #expect(gateway.sandbox.requestLog.filter { $0.path.hasPrefix("/v1/partnership/operations/") }.count >= 3)
            #expect(gateway.sandbox.controls(of: Self.m1)!.domains.map(\.domain) == ["polled.example.com"])
        }
    }

    @Test func stillFailingUpstreamAnswers202WithLocationThenCompletes() async throws {
        try await withGateway(syncWait: .milliseconds(200)) { gateway in
            gateway.sandbox.faults.failNext(15, method: "PUT", status: 503)
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"later.example.com"}"#)
            #expect(response.status == 202)
            let location = try #require(response.headers["Location"])
            #expect(location.hasPrefix("/v1/operations/op_"))
            var state = ""
            for _ in 0..<200 where state != "succeeded" {
                try await Task.sleep(for: .milliseconds(50))
                state = try await gateway.call(.get, location)["state"]?.stringValue ?? ""
            }
            #expect(state == "succeeded")
        }
    }

    @Test func respondAsyncAnswers202AtOnce() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m1)/controls/blocked-domains",
                json: #"{"domain":"async.example.com"}"#, headers: ["Prefer": "respond-async"])
            #expect(response.status == 202)
            #expect(response.headers["Preference-Applied"] == "respond-async")
            #expect(response["state"]?.stringValue == "queued" || response["state"]?.stringValue == "running")
        }
    }

    @Test func dryRunPreviewsValidatesAndChangesNothing() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let before = gateway.sandbox.controls(of: Self.m2)!
            let response = try await gateway.call(
                .post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals?dry_run=true",
                json: #"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#)
            #expect(response.status == 200)
            #expect(response["dryRun"] == .bool(true))
            #expect(response["changes"]?["added"]?.array?.count == 1)
            #expect(response["after"]?["blockedVerticals"]?.array?.count == 3)
            #expect(gateway.sandbox.controls(of: Self.m2)! == before)
            let dryPut = try #require(gateway.upstream("PUT").first)
            #expect(dryPut.query["dry_run"] == "true")
            // The real write after it uses another key: the dry-run's key is burnt.
            _ = try await gateway.call(.post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals", json: #"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#)
            let puts = gateway.upstream("PUT")
            try #require(puts.count == 2)
            #expect(puts[0].header("Idempotency-Key") != puts[1].header("Idempotency-Key"))
            #expect(gateway.sandbox.controls(of: Self.m2)!.blockedVerticals.count == 3)
            // And no operation was recorded for the dry-run.
            let operations = try await gateway.call(.get, "/v1/operations?merchantId=\(Self.m2)")
            #expect(operations["data"]?.array?.count == 1)
        }
    }
}
