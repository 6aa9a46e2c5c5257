import Foundation
import HTTP
@testable import RoktSandbox
import Testing

/// Draining the request log: `DELETE /__sandbox/requests` answers what it removed, so a client
/// that keeps the log short (it holds only the newest 10,000) never loses a request to the gap
/// between reading the log and clearing it.
@Suite struct RequestLogDrainTests {
    @Test func clearingTheLogAnswersExactlyTheEntriesItRemoved() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath() + "?dry_run=true", #"{"status":"paused"}"#, key: "drain-key")
            _ = try await live.get(live.controlsPath())
            let drained = try await live.send(.delete, "/__sandbox/requests", auth: [:])
            #expect(drained.status == 200)
            #expect(drained.json["cleared"] as? Int == 2)
            let entries = try #require(drained.json["requests"] as? [[String: Any]])
            #expect(entries.map { $0["method"] as? String } == ["PUT", "GET"])
            #expect(entries.map { $0["path"] as? String } == [live.statusPath(), live.controlsPath()])
            let headers = entries[0]["headers"] as? [[String: String]] ?? []
            #expect(headers.contains { $0["name"] == "Idempotency-Key" && $0["value"] == "drain-key" })

            // The next drain holds only what arrived since.
            _ = try await live.get(live.statusPath())
            let next = try await live.send(.delete, "/__sandbox/requests", auth: [:])
            #expect(next.json["cleared"] as? Int == 1)
            #expect((next.json["requests"] as? [[String: Any]])?.map { $0["path"] as? String } == [live.statusPath()])
        }
    }
}
