import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

@Suite(.serialized) struct MerchantRegisterTests {
    static let register = "/v1/accounts/register/partnership"

    @Test func newMerchantIs201ThenTheSameIdIs200WithTheSameAccount() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let created = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"shop-42","name":"Shop 42","country":"US"}"#)
            #expect(created.status == 201)
            #expect(created["type"] == .string("merchant.register"))
            #expect(created["state"] == .string("succeeded"))
            let accountId = try #require(created["result"]?["accountId"]?.stringValue)
            #expect(created["merchantId"] == .string(accountId))
            #expect(created["result"]?["externalAccountId"] == .string("shop-42"))
            #expect(gateway.sandbox.account(accountId)?.name == "Shop 42")
            let sent = gateway.upstream("POST", pathSuffix: Self.register)
            #expect(sent.count == 1)
            #expect(sent.first?.body.contains(#""external_account_id":"shop-42""#) == true)

            let again = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"shop-42","name":"Shop 42"}"#)
            #expect(again.status == 200)
            #expect(again["result"]?["accountId"] == .string(accountId))
            #expect(gateway.upstream("POST", pathSuffix: Self.register).count == 1)  // answered from the gateway's own record
        }
    }

    @Test func merchantRoktAlreadyHasIs200WithItsAccount() async throws {
        try await withGateway { gateway in
            // Registered before this gateway knew it: Rokt answers with the existing account.
            let response = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"ext-\#(SandboxDemo.merchant1)","name":"Again"}"#)
            #expect(response.status == 200)
            #expect(response["changed"] == .bool(false))
            #expect(response["result"]?["accountId"] == .string(SandboxDemo.merchant1))
            #expect(gateway.sandbox.account(SandboxDemo.merchant1)?.name == "Demo Merchant One")
        }
    }

    @Test func twentyConcurrentRegistersCreateOneAccountAndAllAnswerIt() async throws {
        try await withGateway { gateway in
            let before = gateway.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count
            gateway.sandbox.resetRequestLog()
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"race-1","name":"Race"}"#) }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            #expect(responses.map(\.status).sorted() == Array(repeating: 200, count: 19) + [201])
            let accounts = Set(responses.compactMap { $0["result"]?["accountId"]?.stringValue })
            #expect(accounts.count == 1)
            #expect(Set(responses.compactMap { $0["id"]?.stringValue }).count == 1)
            #expect(gateway.upstream("POST", pathSuffix: Self.register).count == 1)
            #expect(gateway.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count == before + 1)
        }
    }

    @Test func registerFailingWith503IsRetriedUnderOneKey() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(2, method: "POST", path: Self.register, status: 503)
            gateway.sandbox.resetRequestLog()
            let created = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"flaky-1","name":"Flaky"}"#)
            #expect(created.status == 201)
            let posts = gateway.upstream("POST", pathSuffix: Self.register)
            #expect(posts.map(\.status) == [503, 503, 201])
            #expect(Set(posts.compactMap { $0.header("Idempotency-Key") }).count == 1)
            #expect(created["attempts"]?.int == 3)
        }
    }

    @Test func upstreamRejectionFailsWithRoktsMessageAndALaterRegisterTriesAgain() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(1, method: "POST", path: Self.register, status: 422)
            gateway.sandbox.resetRequestLog()
            let failed = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"rejected-1","name":"No"}"#)
            #expect(failed.status == 422)
            #expect(failed["code"] == .string("upstream_rejected"))
            #expect(failed["upstream"]?["status"]?.int == 422)
            #expect(failed["upstream"]?["message"]?.stringValue?.isEmpty == false)
            #expect(failed["operationId"]?.stringValue != nil)
            #expect(gateway.upstream("POST", pathSuffix: Self.register).count == 1)  // a 4xx is not retried
            // A failed register does not hold the id: the next one is sent.
            let retried = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"rejected-1","name":"No"}"#)
            #expect(retried.status == 201)
        }
    }

    @Test func invalidBodiesAre400NamingEachField() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let bad = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"has space","website":"ftp://x","country":"us","plan":"gold"}"#)
            #expect(bad.status == 400)
            #expect(bad["code"] == .string("validation_failed"))
            let fields = Set(bad["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? [])
            #expect(fields == ["externalAccountId", "name", "website", "country", "plan"])
            let empty = try await gateway.call(.post, "/v1/merchants", json: "")
            #expect(empty.status == 400)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func dryRunIsRefusedAndNothingIsSent() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(.post, "/v1/merchants?dry_run=true", json: #"{"externalAccountId":"dry-1","name":"Dry"}"#)
            #expect(response.status == 400)
            #expect(response["code"] == .string("dry_run_not_supported"))
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func authIsCheckedBeforeAnythingIsSent() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read])
            let restricted = try await gateway.makeKey([.read, .write], merchants: [SandboxDemo.merchant1])
            gateway.sandbox.resetRequestLog()
            let body = #"{"externalAccountId":"auth-1","name":"Auth"}"#
            #expect(try await gateway.call(.post, "/v1/merchants", json: body, anonymous: true).status == 401)
            #expect(try await gateway.call(.post, "/v1/merchants", json: body, key: reader).status == 403)
            #expect(try await gateway.call(.post, "/v1/merchants", json: body, key: restricted).status == 403)
            #expect(try await gateway.call(.get, "/v1/merchants", anonymous: true).status == 401)
            #expect(gateway.sandbox.requestLog.isEmpty)
        }
    }

    @Test func inboundIdempotencyKeyReplaysTheRegistration() async throws {
        try await withGateway { gateway in
            let body = #"{"externalAccountId":"keyed-1","name":"Keyed"}"#
            let first = try await gateway.call(.post, "/v1/merchants", json: body, headers: ["Idempotency-Key": "reg-1"])
            #expect(first.status == 201)
            let replay = try await gateway.call(.post, "/v1/merchants", json: body, headers: ["Idempotency-Key": "reg-1"])
            #expect(replay.status == 201)
            #expect(replay.headers["Idempotent-Replayed"] == "true")
            #expect(replay.body == first.body)
        }
    }
}

@Suite(.serialized) struct MerchantListTests {
    @Test func pagesThroughEveryManagedAccount() async throws {
        try await withGateway { gateway in
            let expected = gateway.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).map(\.accountId).sorted()
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await gateway.call(.get, "/v1/merchants?limit=1" + (cursor.map { "&after=\($0)" } ?? ""))
                #expect(page.status == 200)
                let data = page["data"]?.array ?? []
                #expect(data.count == 1)
                seen += data.compactMap { $0["accountId"]?.stringValue }
                cursor = page["nextCursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == expected)
            let all = try await gateway.call(.get, "/v1/merchants?limit=1000")  // clamped, not refused
            #expect(all.status == 200)
            #expect(all["data"]?.array?.count == expected.count)
            #expect(all["nextCursor"] == .null)
            let sent = gateway.upstream("GET", pathSuffix: "/v1/partnership/accounts").last
            #expect(sent?.query["limit"] == "100")
            #expect(sent?.query["parent_account_id"] == SandboxDemo.parentAccountId)
        }
    }

    @Test func badPaginationIs400() async throws {
        try await withGateway { gateway in
            gateway.sandbox.resetRequestLog()
            for query in ["limit=0", "limit=abc", "limit=-3", "after=%20"] {
                let response = try await gateway.call(.get, "/v1/merchants?" + query)
                #expect(response.status == 400, "\(query)")
                #expect(response["errors"]?.array?.first?["field"]?.stringValue == String(query.prefix { $0 != "=" }))
            }
            #expect(gateway.sandbox.requestLog.isEmpty)
            // A cursor Rokt never issued: Rokt's 400 comes back with its message.
            let foreign = try await gateway.call(.get, "/v1/merchants?after=nonsense")
            #expect(foreign.status == 400)
            #expect(foreign["upstream"]?["message"]?.stringValue?.contains("cursor") == true)
        }
    }

    @Test func restrictedKeySeesOnlyItsMerchants() async throws {
        try await withGateway { gateway in
            let m2Reader = try await gateway.makeKey([.read], merchants: [SandboxDemo.merchant2])
            let page = try await gateway.call(.get, "/v1/merchants", key: m2Reader)
            #expect(page["data"]?.array?.compactMap { $0["accountId"]?.stringValue } == [SandboxDemo.merchant2])
        }
    }

    @Test func upstream5xxOnListIsA502WithRoktsRequestId() async throws {
        try await withGateway { gateway in
            gateway.sandbox.faults.failNext(1, method: "GET", path: "/v1/partnership/accounts", status: 500)
            let response = try await gateway.call(.get, "/v1/merchants")
            #expect(response.status == 502)
            #expect(response["upstream"]?["status"]?.int == 500)
            #expect(response["upstream"]?["requestId"]?.stringValue != nil)
        }
    }
}
