import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct AdminRoutesTests {
    func admin(_ live: LiveSandbox, _ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> Reply {
        try await live.send(method, path, json: json, auth: [:])
    }

    @Test func requestLogRecordsWhatArrivedAndWhatWasAnsweredAndCanBeCleared() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath() + "?dry_run=true", #"{"status":"paused"}"#, key: "log-key")
            _ = try await live.get(live.statusPath(), auth: [:])
            let log = try await admin(live, .get, "/__sandbox/requests")
            #expect(log.status == 200)
            let entries = try #require(log.json["requests"] as? [[String: Any]])
            #expect(entries.count == 2)  // admin requests are not logged
            let first = entries[0]
            #expect(first["method"] as? String == "PUT")
            #expect(first["path"] as? String == live.statusPath())
            #expect((first["query"] as? [String: String])?["dry_run"] == "true")
            #expect(first["body"] as? String == #"{"status":"paused"}"#)
            #expect(first["status"] as? Int == 200)
            let headers = first["headers"] as? [[String: String]] ?? []
            #expect(headers.contains { $0["name"] == "Idempotency-Key" && $0["value"] == "log-key" })
            #expect(entries[1]["status"] as? Int == 401)
            #expect(live.sandbox.requestLog.count == 2)
            #expect(try await admin(live, .delete, "/__sandbox/requests").json["cleared"] as? Int == 2)
            #expect((try await admin(live, .get, "/__sandbox/requests").json["requests"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func faultsArePostedListedAndDeletedInTheirJSONShape() async throws {
        try await withSandbox { (live) async throws in
            let shapes = [
                #"{"kind":"status","method":"PUT","path":"/v1/partnership/accounts/*/status","status":429,"retryAfter":1,"count":2}"#,
                #"{"kind":"latency","milliseconds":1,"count":null}"#,
                #"{"kind":"drop","path":"/v1/Placements/any","timing":"afterApplying"}"#,
                #"{"kind":"foreignEdit","accountId":"demo-merchant-1","domains":[{"domain":"x.example.com","policy":"Block"}]}"#,
                #"{"kind":"stuckVariants","accountId":"demo-merchant-1","variantIds":["dm1-variant-mobile"],"cascades":1}"#,
                #"{"kind":"pendingOperations","method":"POST","path":"/v1/partnership/accounts/*/pages","polls":1}"#,
            ]
            for shape in shapes {
                let reply = try await admin(live, .post, "/__sandbox/faults", shape)
                #expect(reply.status == 201, "\(shape): \(reply.text)")
                #expect((reply.json["id"] as? String)?.hasPrefix("flt_") == true)
            }
            let listed = try #require(try await admin(live, .get, "/__sandbox/faults").json["faults"] as? [[String: Any]])
            #expect(listed.compactMap { $0["kind"] as? String } == ["status", "latency", "drop", "foreignEdit", "stuckVariants", "pendingOperations"])
            #expect(listed[0]["remaining"] as? Int == 2)
            #expect(listed[1]["remaining"] is NSNull)
            #expect(live.sandbox.faults.active.count == 6)
            #expect(try await admin(live, .delete, "/__sandbox/faults").json["cleared"] as? Int == 6)
            #expect(live.sandbox.faults.active.isEmpty)
        }
    }

    @Test func faultPostedOverHTTPTakesEffect() async throws {
        try await withSandbox { (live) async throws in
            _ = try await admin(
                live, .post, "/__sandbox/faults",
                #"{"kind":"stuckVariants","accountId":"demo-merchant-1","variantIds":["dm1-variant-default"]}"#)
            #expect(try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#).data?["status"] as? String == "mixed")
            _ = try await admin(live, .post, "/__sandbox/faults", #"{"kind":"status","status":502,"path":"/v1/partnership/**"}"#)
            #expect(try await live.get(live.controlsPath()).status == 502)
        }
    }

    @Test func malformedFaultIs400NamingTheMember() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await admin(live, .post, "/__sandbox/faults", #"{"kind":"status","status":503,"retry_after":2}"#)
            #expect(reply.status == 400)
            #expect((reply.json["error"] as? String)?.contains("retry_after") == true)
            #expect(live.sandbox.faults.active.isEmpty)
        }
    }

    @Test func resetRestoresTheSeedAndClearsFaultsAndLog() async throws {
        try await withSandbox { (live) async throws in
            let seeded = live.sandbox.account(SandboxDemo.merchant2)
            _ = try await live.write(.put, live.controlsPath(SandboxDemo.merchant2), controlsJSON())
            _ = try await live.write(.post, "/v1/accounts/register/partnership", #"{"external_account_id":"r1","name":"R"}"#)
            live.sandbox.faults.failNext(status: 500)
            #expect(try await admin(live, .post, "/__sandbox/reset").status == 200)
            #expect(live.sandbox.account(SandboxDemo.merchant2) == seeded)
            #expect(live.sandbox.accounts(managedBy: SandboxDemo.parentAccountId).count == 3)
            #expect(live.sandbox.faults.active.isEmpty)
            #expect(live.sandbox.requestLog.isEmpty)
        }
    }

    @Test func inProcessResetAndLogAccessorsMatchTheAdminRoutes() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(live.sandbox.requestLog.map(\.status) == [200])
            #expect(live.sandbox.requestLog.first?.header("Idempotency-Key") == "k")
            live.sandbox.resetRequestLog()
            #expect(live.sandbox.requestLog.isEmpty)
            live.sandbox.reset()
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            // The reset forgot the key too.
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(live.sandbox.requestLog.last?.replayed == false)
        }
    }

    @Test func clockAdvanceOverHTTPExpiresIdempotencyKeys() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            let before = live.sandbox.now
            let advanced = try await admin(live, .post, "/__sandbox/clock/advance", #"{"seconds":86400}"#)
            #expect(advanced.status == 200)
            #expect(live.sandbox.now.timeIntervalSince(before) == 86_400)
            let fresh = try await live.write(.put, live.statusPath(), #"{"status":"active"}"#, key: "k")
            #expect(fresh.headers["Idempotent-Replayed"] == nil)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            #expect(try await admin(live, .post, "/__sandbox/clock/advance", #"{"seconds":-5}"#).status == 400)
        }
    }

    @Test func accountSnapshotShowsArchivedVariants() async throws {
        try await withSandbox { (live) async throws in
            let snapshot = try await admin(live, .get, "/__sandbox/accounts/demo-merchant-3")
            let variants = try #require(snapshot.json["variants"] as? [[String: Any]])
            #expect(variants.contains { $0["pageVariantId"] as? String == SandboxDemo.merchant3ArchivedVariant && $0["archived"] as? Bool == true })
            #expect(try await admin(live, .get, "/__sandbox/accounts/nope").status == 404)
        }
    }

    @Test func adminRoutesCanBeTurnedOff() async throws {
        try await withSandbox({ $0.adminRoutesEnabled = false }) { (live: LiveSandbox) async throws -> Void in
            let reset = try await admin(live, .post, "/__sandbox/reset")
            #expect(reset.status == 404)
            let requests = try await admin(live, .get, "/__sandbox/requests")
            #expect(requests.status == 404)
        }
    }
}
