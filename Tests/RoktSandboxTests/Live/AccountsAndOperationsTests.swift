import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct AccountsTests {
    let registerPath = "/v1/accounts/register/partnership"

    @Test func registerCreatesAManagedAccountWithADefaultSurface() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.post, registerPath, #"{"external_account_id":"shop-42","name":"Shop 42","country":"AU"}"#)
            #expect(reply.status == 201)
            let id = try #require(reply.data?["accountId"] as? String)
            #expect(reply.data?["externalAccountId"] as? String == "shop-42")
            #expect(reply.data?["parentAccountId"] as? String == SandboxDemo.parentAccountId)
            #expect(reply.operationId != nil)
            let status = try await live.get(live.statusPath(id))
            #expect(status.status == 200)
            #expect(status.data?["status"] as? String == "active")
            #expect(variantStatuses(status.data).count == 1)
            #expect(try await live.get(live.controlsPath(id)).status == 200)
        }
    }

    @Test func registerIsIdempotentOnExternalAccountIdWithinAParent() async throws {
        try await withSandbox { (live) async throws in
            let first = try await live.write(.post, registerPath, #"{"external_account_id":"shop-7","name":"Shop 7"}"#)
            let again = try await live.write(.post, registerPath, #"{"external_account_id":"shop-7","name":"Shop Seven"}"#)
            #expect(again.status == 200)
            #expect(again.headers["Idempotent-Replayed"] == nil)
            #expect(again.data?["accountId"] as? String == first.data?["accountId"] as? String)
            #expect(again.data?["name"] as? String == "Shop 7")
            #expect(live.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count == 4)
            let otherParent = try await live.write(.post, registerPath, #"{"external_account_id":"shop-7","name":"Shop 7"}"#, auth: LiveSandbox.otherAuth)
            #expect(otherParent.status == 201)
            #expect(otherParent.data?["accountId"] as? String != first.data?["accountId"] as? String)
        }
    }

    @Test func registerBodyIsSnakeCase() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.post, registerPath, #"{"externalAccountId":"shop-1","name":"Shop"}"#)
            #expect(reply.status == 400)
            #expect(reply.message.contains("external_account_id"))
        }
    }

    @Test func listAccountsPaginatesWithAnOpaqueCursor() async throws {
        try await withSandbox { (live) async throws in
            let first = try await live.get("/v1/partnership/accounts?parent_account_id=demo-parent&limit=2")
            #expect(first.status == 200)
            let page1 = (first.data?["accounts"] as? [[String: Any]])?.compactMap { $0["accountId"] as? String }
            #expect(page1 == [SandboxDemo.merchant1, SandboxDemo.merchant2])
            let cursor = try #require(first.data?["nextCursor"] as? String)
            let second = try await live.get("/v1/partnership/accounts?parent_account_id=demo-parent&limit=2&cursor=\(cursor)")
            let page2 = (second.data?["accounts"] as? [[String: Any]])?.compactMap { $0["accountId"] as? String }
            #expect(page2 == [SandboxDemo.merchant3])
            #expect(second.data?["nextCursor"] is NSNull)
            #expect(try await live.get("/v1/partnership/accounts").data?["accounts"] as? [[String: Any]] != nil)
        }
    }

    @Test func listAccountsRefusesOtherParentsAndBadParameters() async throws {
        try await withSandbox { (live) async throws in
            #expect(try await live.get("/v1/partnership/accounts?parent_account_id=other-parent").status == 403)
            #expect(try await live.get("/v1/partnership/accounts?limit=0").status == 400)
            #expect(try await live.get("/v1/partnership/accounts?limit=101").status == 400)
            #expect(try await live.get("/v1/partnership/accounts?cursor=zzz").status == 400)
            let other = try await live.get("/v1/partnership/accounts?parent_account_id=other-parent", auth: LiveSandbox.otherAuth)
            #expect((other.data?["accounts"] as? [[String: Any]])?.compactMap { $0["accountId"] as? String } == [SandboxDemo.otherMerchant])
        }
    }
}

@Suite struct OperationsTests {
    @Test func operationIsReadableByItsManagerOnlyOthersGet404() async throws {
        try await withSandbox { (live) async throws in
            let write = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            let id = try #require(write.operationId)
            let mine = try await live.get("/v1/partnership/operations/\(id)")
            #expect(mine.status == 200)
            #expect(mine.data?["operationId"] as? String == id)
            #expect(mine.data?["type"] as? String == "status.set")
            let theirs = try await live.get("/v1/partnership/operations/\(id)", auth: LiveSandbox.otherAuth)
            #expect(theirs.status == 404)
            #expect(theirs.error == "not_found")
            let unknown = try await live.get("/v1/partnership/operations/op_ffffffff")
            #expect(unknown.status == 404)
            #expect(theirs.message.replacingOccurrences(of: id, with: "X") == unknown.message.replacingOccurrences(of: "op_ffffffff", with: "X"))
        }
    }

    @Test func everyNonDryRunWriteAnswersADistinctOperationId() async throws {
        try await withSandbox { (live) async throws in
            var ids: Set<String> = []
            for body in [#"{"status":"paused"}"#, #"{"status":"active"}"#] {
                ids.insert(try #require(try await live.write(.put, live.statusPath(), body).operationId))
            }
            ids.insert(try #require(try await live.write(.put, live.controlsPath(), controlsJSON()).operationId))
            #expect(ids.count == 3)
        }
    }
}
