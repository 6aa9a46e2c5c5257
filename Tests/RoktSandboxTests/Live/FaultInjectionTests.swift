import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct FaultInjectionTests {
    let statusPattern = "/v1/partnership/accounts/*/status"

    @Test func statusFaultAnswersTheChosenStatusWithRetryAfterForTheNextNMatchingRequests() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.failNext(2, method: "PUT", path: statusPattern, status: 503, retryAfterSeconds: 3)
            #expect(try await live.get(live.statusPath()).status == 200)  // GET does not match
            for _ in 0..<2 {
                let reply = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "same-key")
                #expect(reply.status == 503)
                #expect(reply.headers["Retry-After"] == "3")
                #expect(reply.error == "service_unavailable")
                #expect(reply.json["data"] is NSNull)
                #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            }
            // Not applied, so not cached: the retry with the same key runs for real.
            let third = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "same-key")
            #expect(third.status == 200)
            #expect(third.headers["Idempotent-Replayed"] == nil)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
        }
    }

    @Test func statusFaultAfterApplyingCommitsAndTheRetryWithTheSameKeyReplaysTheSuccess() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.failNext(method: "PUT", path: statusPattern, status: 500, timing: .afterApplying)
            let failed = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(failed.status == 500)
            #expect(failed.operationId == nil)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
            let retry = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(retry.status == 200)
            #expect(retry.headers["Idempotent-Replayed"] == "true")
            #expect(retry.operationId != nil)
        }
    }

    @Test func latencyDelaysMatchingRequestsWithoutHoldingUpOthers() async throws {
        // One loop: a delay that blocked its thread would hold up the other request too.
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        try await withSandbox(group: group) { (live) async throws in
            live.sandbox.faults.addLatency(milliseconds: 800, method: "GET", path: statusPattern)
            let clock = ContinuousClock()
            let start = clock.now
            async let slow: (Reply, ContinuousClock.Instant) = (live.get(live.statusPath()), clock.now)
            try await Task.sleep(for: .milliseconds(50))
            let fast = try await live.get(live.controlsPath())
            let fastDone = clock.now
            let (slowReply, slowDone) = try await slow
            #expect(fast.status == 200 && slowReply.status == 200)
            #expect(slowDone - start >= .milliseconds(800))
            // The delayed request holds no thread: another request is served meanwhile.
            #expect(fastDone < slowDone)
            #expect(live.sandbox.requestLog.first { $0.path == live.statusPath() }?.fault == "latency")
        }
    }

    @Test func dropBeforeApplyingClosesWithoutAResponseAndChangesNothing() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.dropNext(method: "PUT", path: statusPattern)
            let fresh = HTTPClient()  // a new connection: the client does not silently retry it
            defer { fresh.shutdown() }
            await #expect(throws: HTTPClientError.self) {
                _ = try await live.send(.put, live.statusPath(), json: #"{"status":"paused"}"#, key: "k", using: fresh)
            }
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            let entry = live.sandbox.requestLog.last
            #expect(entry?.status == nil && entry?.fault == "drop")
            let retry = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(retry.status == 200 && retry.headers["Idempotent-Replayed"] == nil)
        }
    }

    @Test func dropAfterApplyingCommitsThenClosesAndTheRetryReplays() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.dropNext(method: "PUT", path: statusPattern, timing: .afterApplying)
            let fresh = HTTPClient()
            defer { fresh.shutdown() }
            await #expect(throws: HTTPClientError.self) {
                _ = try await live.send(.put, live.statusPath(), json: #"{"status":"paused"}"#, key: "k", using: fresh)
            }
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
            let retry = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "k")
            #expect(retry.status == 200)
            #expect(retry.headers["Idempotent-Replayed"] == "true")
        }
    }

    @Test func foreignWriterAfterAGetMakesThatGetsHashStale() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.editControlsAfterNextGet(of: SandboxDemo.merchant1)
            let read = try await live.get(live.controlsPath())
            let hash = try #require(read.data?["contentHash"] as? String)
            #expect(domainNames(read.data).isEmpty)  // the GET answered the state before the edit
            let put = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["mine.example.com"], contentHash: hash))
            #expect(put.status == 409)
            let reread = try await live.get(live.controlsPath())
            #expect(domainNames(reread.data) == ["foreign-edit-1.example.com"])
            let newHash = try #require(reread.data?["contentHash"] as? String)
            #expect(newHash != hash)
            let retry = try await live.write(
                .put, live.controlsPath(),
                controlsJSON(domains: ["foreign-edit-1.example.com", "mine.example.com"], contentHash: newHash))
            #expect(retry.status == 200)
        }
    }

    @Test func foreignWriterAppliesTheGivenEdit() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.editControlsAfterNextGet(
                of: SandboxDemo.merchant2, blockedVerticals: [BlockedVertical(partnerVerticalId: 1599, partnerSubVerticalId: 1699)])
            _ = try await live.get(live.controlsPath(SandboxDemo.merchant2))
            let controls = live.sandbox.controls(of: SandboxDemo.merchant2)
            #expect(controls?.blockedVerticals == [BlockedVertical(partnerVerticalId: 1599, partnerSubVerticalId: 1699)])
            #expect(controls?.domains.map(\.domain) == ["competitor.example.com"])
        }
    }

    @Test func pendingOperationStaysPendingForKPollsThenAppliesTheWrite() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.holdWritesPending(forPolls: 2, method: "PUT", path: statusPattern)
            let put = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "held")
            #expect(put.status == 202)
            #expect(put.message == "accepted")
            let id = try #require(put.operationId)
            #expect(put.headers["Location"] == "/v1/partnership/operations/\(id)")
            #expect(put.data?["operationId"] as? String == id)
            #expect(put.data?["state"] as? String == "pending")
            #expect(put.data?["result"] is NSNull)
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            // A retry with the same key replays the 202 and does not queue another write.
            let replay = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#, key: "held")
            #expect(replay.body == put.body)
            for _ in 0..<2 {
                let poll = try await live.get("/v1/partnership/operations/\(id)")
                #expect(poll.data?["state"] as? String == "pending")
                #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
            }
            let done = try await live.get("/v1/partnership/operations/\(id)")
            #expect(done.data?["state"] as? String == "succeeded")
            #expect((done.data?["result"] as? [String: Any])?["status"] as? String == "paused")
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .paused)
            #expect(try await live.get("/v1/partnership/operations/\(id)").data?["state"] as? String == "succeeded")
            // Spent: the next write is applied at once.
            #expect(try await live.write(.put, live.statusPath(), #"{"status":"active"}"#).status == 200)
        }
    }

    @Test func pendingOperationFailsWithTheConflictWhenTheControlsChangedMeanwhile() async throws {
        try await withSandbox { (live) async throws in
            let hash = try await live.contentHash(SandboxDemo.merchant1)
            live.sandbox.faults.holdWritesPending(forPolls: 0, method: "PUT")
            let held = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["held.example.com"], contentHash: hash))
            #expect(held.status == 202)
            let id = try #require(held.operationId)
            #expect(try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["other.example.com"])).status == 200)
            let poll = try await live.get("/v1/partnership/operations/\(id)")
            #expect(poll.data?["state"] as? String == "failed")
            #expect((poll.data?["error"] as? [String: Any])?["status"] as? Int == 409)
            #expect(live.sandbox.controls(of: SandboxDemo.merchant1)?.domains.map(\.domain) == ["other.example.com"])
        }
    }

    @Test func invalidWritesAreRefusedAtOnceAndDoNotSpendThePendingFault() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.holdWritesPending(forPolls: 1)
            let refused = try await live.write(.put, live.statusPath(), #"{"status":"nope"}"#)
            #expect(refused.status == 400)
            #expect(live.sandbox.faults.active.count == 1)
        }
    }
}
