import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct IdempotencyTests {
    @Test func everyWriteWithoutAnIdempotencyKeyIs400AndChangesNothing() async throws {
        try await withSandbox { (live) async throws in
            let writes: [(HTTPMethod, String, String)] = [
                (.put, live.controlsPath(), controlsJSON(domains: ["a.example.com"])),
                (.put, live.statusPath(), #"{"status":"paused"}"#),
                (.patch, "/v1/partnership/accounts/demo-merchant-1/layouts/\(SandboxDemo.merchant1Layout)", ##"{"textColor":"#000000"}"##),
                (.post, "/v1/partnership/accounts/demo-merchant-1/pages", #"{"type":"tracking"}"#),
                (.post, "/v1/partnership/accounts/demo-merchant-1/payout-setup", "{}"),
                (.post, "/v1/partnership/accounts/demo-merchant-1/data-deletion-requests", "{}"),
                (.post, "/v1/partnership/network-privacy-requests", #"{"requestType":"opt_out","identifiers":[{"type":"email","value":"a@b.example.com"}]}"#),
                (.post, "/v1/accounts/register/partnership", #"{"external_account_id":"x1","name":"X"}"#),
            ]
            let before = live.sandbox.account(SandboxDemo.merchant1)
            for (method, path, body) in writes {
                let reply = try await live.send(method, path, json: body)
                #expect(reply.status == 400, "\(method) \(path)")
                #expect(reply.error == "idempotency_key_required")
                #expect(reply.operationId == nil)
            }
            #expect(live.sandbox.account(SandboxDemo.merchant1) == before)
            #expect(live.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count == 3)
        }
    }

    @Test func reusedKeyWithADifferentBodyReplaysTheCachedResponseAndChangesNothing() async throws {
        try await withSandbox { (live) async throws in
            let first = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["first.example.com"]), key: "key-1")
            #expect(first.status == 200)
            let second = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["second.example.com"]), key: "key-1")
            #expect(second.status == first.status)
            #expect(second.body == first.body)
            #expect(second.operationId == first.operationId)
            #expect(second.headers["Idempotent-Replayed"] == "true")
            #expect(second.headers["X-Request-Id"] != first.headers["X-Request-Id"])
            #expect(live.sandbox.controls(of: SandboxDemo.merchant1)?.domains.map(\.domain) == ["first.example.com"])
            // Even on another endpoint the key answers what it stored.
            let third = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "key-1")
            #expect(third.body == first.body)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
        }
    }

    @Test func keysAreScopedToTheCallersCredential() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "shared")
            let other = try await live.write(
                .put, live.statusPath(SandboxDemo.otherMerchant), #"{"status":"paused"}"#,
                key: "shared", auth: LiveSandbox.otherAuth)
            #expect(other.headers["Idempotent-Replayed"] == nil)
            #expect(other.data?["accountId"] as? String == SandboxDemo.otherMerchant)
            #expect(live.sandbox.status(of: SandboxDemo.otherMerchant)?.status == .paused)
        }
    }

    @Test func keyExpiresAfterTwentyFourHoursOfTheInjectedClock() async throws {
        try await withSandbox { (live) async throws in
            let first = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "day-key")
            live.clock.advance(by: 24 * 3600 - 1)
            let replay = try await live.write(.put, live.statusPath(), #"{"status":"active"}"#, key: "day-key")
            #expect(replay.body == first.body)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
            live.clock.advance(by: 1)
            let fresh = try await live.write(.put, live.statusPath(), #"{"status":"active"}"#, key: "day-key")
            #expect(fresh.status == 200)
            #expect(fresh.headers["Idempotent-Replayed"] == nil)
            #expect(fresh.operationId != first.operationId)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
        }
    }

    @Test func refusedWritesDoNotSpendTheirKey() async throws {
        try await withSandbox { (live) async throws in
            let refused = try await live.write(.put, live.statusPath(), #"{"status":"sleeping"}"#, key: "retry-me")
            #expect(refused.status == 400)
            let accepted = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "retry-me")
            #expect(accepted.status == 200)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
        }
    }

    @Test func samePayloadWithAFreshKeyIsANoOpWriteAnsweringTheCurrentCascade() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            let again = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            #expect(again.status == 200)
            #expect(again.headers["Idempotent-Replayed"] == nil)
            #expect(again.data?["status"] as? String == "paused")
        }
    }
}

@Suite struct DryRunTests {
    @Test func dryRunControlsPutAnswersLikeARealOneAndPersistsNothing() async throws {
        try await withSandbox { (live) async throws in
            let path = live.controlsPath(SandboxDemo.merchant2)
            let hash = try await live.contentHash(SandboxDemo.merchant2)
            let body = controlsJSON(verticals: [(1500, 1610), (1500, 1611)], contentHash: hash)
            let dry = try await live.write(.put, path + "?dry_run=true", body)
            #expect(dry.status == 200)
            #expect(dry.operationId == nil)
            #expect(live.sandbox.operation("op_00000001") == nil)
            #expect(try await live.contentHash(SandboxDemo.merchant2) == hash)
            #expect(verticalPairs(try await live.get(path).data) == [[1500, 1610], [1502, 1620]])
            let real = try await live.write(.put, path, body)
            #expect(real.status == 200)
            // Identical response: the same data (including the would-be hash) and message.
            #expect(NSDictionary(dictionary: real.data ?? [:]) == NSDictionary(dictionary: dry.data ?? [:]))
            #expect(real.message == dry.message)
        }
    }

    @Test func dryRunBurnsItsKeySoTheRealWriteWithItCommitsNothing() async throws {
        try await withSandbox { (live) async throws in
            let body = controlsJSON(domains: ["new.example.com"])
            let dry = try await live.write(.put, live.controlsPath() + "?dry_run=true", body, key: "burnt")
            let real = try await live.write(.put, live.controlsPath(), body, key: "burnt")
            #expect(real.body == dry.body)
            #expect(real.operationId == nil)
            #expect(real.headers["Idempotent-Replayed"] == "true")
            #expect(live.sandbox.controls(of: SandboxDemo.merchant1)?.domains.isEmpty == true)
        }
    }

    @Test func dryRunStatusPutPreviewsTheCascadeAndPersistsNothing() async throws {
        try await withSandbox { (live) async throws in
            let dry = try await live.write(.put, live.statusPath() + "?dry_run=true", #"{"status":"paused"}"#)
            #expect(dry.status == 200)
            #expect(dry.data?["status"] as? String == "paused")
            #expect(dry.operationId == nil)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
        }
    }

    @Test func dryRunStillRunsAuthRelationshipAndMappingChecks() async throws {
        try await withSandbox { (live) async throws in
            let body = controlsJSON(verticals: [(1400, 1610)])
            let noAuth = try await live.send(.put, live.controlsPath() + "?dry_run=true", json: body, key: "a", auth: [:])
            #expect(noAuth.status == 401)
            let foreign = try await live.write(.put, live.controlsPath(SandboxDemo.otherMerchant) + "?dry_run=true", body)
            #expect(foreign.status == 403)
            let unmapped = try await live.write(.put, live.controlsPath() + "?dry_run=true", body)
            #expect(unmapped.status == 400)
            #expect(unmapped.message.contains("1400/1610"))
            let stale = try await live.write(.put, live.controlsPath() + "?dry_run=true", controlsJSON(contentHash: "h_0000000000000000"))
            #expect(stale.status == 409)
        }
    }

    @Test func dryRunOnRegisterAndPayoutSetupIs400AndCreatesNothing() async throws {
        try await withSandbox { (live) async throws in
            let register = try await live.write(.post, "/v1/accounts/register/partnership?dry_run=true", #"{"external_account_id":"dr","name":"Dry"}"#)
            #expect(register.status == 400)
            #expect(register.error == "dry_run_not_supported")
            #expect(live.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count == 3)
            let payout = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/payout-setup?dry_run=true", "{}")
            #expect(payout.status == 400)
            #expect(payout.error == "dry_run_not_supported")
            #expect(live.sandbox.account(SandboxDemo.merchant1)?.stripeAccountId == nil)
        }
    }

    @Test func dryRunOnLayoutsAndPagesValidatesAndPersistsNothing() async throws {
        try await withSandbox { (live) async throws in
            let layout = try await live.write(
                .patch, "/v1/partnership/accounts/demo-merchant-1/layouts/\(SandboxDemo.merchant1Layout)?dry_run=true", ##"{"textColor":"#000000"}"##)
            #expect(layout.status == 200)
            #expect(layout.data?["textColor"] as? String == "#000000")
            #expect(live.sandbox.layout(SandboxDemo.merchant1Layout, of: SandboxDemo.merchant1)?.theme == .standard)
            let page = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/pages?dry_run=true", #"{"type":"returns"}"#)
            #expect(page.status == 201)
            #expect(live.sandbox.account(SandboxDemo.merchant1)?.pages.count == 1)
        }
    }

    @Test func dryRunIsIgnoredOnReadsAndMustBeTrueOrFalseOnWrites() async throws {
        try await withSandbox { (live) async throws in
            #expect(try await live.get(live.statusPath() + "?dry_run=true").status == 200)
            let bad = try await live.write(.put, live.statusPath() + "?dry_run=yes", #"{"status":"paused"}"#)
            #expect(bad.status == 400)
            #expect(bad.message.contains("dry_run"))
            #expect(try await live.write(.put, live.statusPath() + "?dry_run=false", #"{"status":"paused"}"#).operationId != nil)
        }
    }
}
