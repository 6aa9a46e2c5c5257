import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct MarketplaceControlsTests {
    @Test func seededMerchantTwoHasItsBlocksAndAContentHash() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.get(live.controlsPath(SandboxDemo.merchant2))
            #expect(reply.status == 200)
            #expect(verticalPairs(reply.data) == [[1500, 1610], [1502, 1620]])
            #expect(domainNames(reply.data) == ["competitor.example.com"])
            #expect((reply.data?["blockedVerticals"] as? [[String: Any]])?.allSatisfy { $0["policy"] as? String == "Block" } == true)
            #expect((reply.data?["contentHash"] as? String)?.hasPrefix("h_") == true)
            #expect(reply.data?["accountId"] as? String == SandboxDemo.merchant2)
        }
    }

    @Test func putReplacesTheWholeSet() async throws {
        try await withSandbox { (live) async throws in
            // The docs' wrong.json: only 1504 is sent, so 1500 and 1502 are unblocked, domains cleared.
            let reply = try await live.write(
                .put, live.controlsPath(SandboxDemo.merchant2),
                #"{"name":"Acme Network Controls","blockedVerticals":[{"partnerVerticalId":1504,"partnerSubVerticalId":1612,"policy":"Block"}]}"#)
            #expect(reply.status == 200)
            #expect(verticalPairs(reply.data) == [[1504, 1612]])
            #expect(domainNames(reply.data).isEmpty)
            let stored = live.sandbox.controls(of: SandboxDemo.merchant2)
            #expect(stored?.blockedVerticals == [BlockedVertical(partnerVerticalId: 1504, partnerSubVerticalId: 1612)])
            #expect(stored?.domains.isEmpty == true)
            #expect(stored?.name == "Acme Network Controls")
        }
    }

    @Test func putWithTheCurrentHashSucceedsAndAnswersTheNewHash() async throws {
        try await withSandbox { (live) async throws in
            let hash = try await live.contentHash(SandboxDemo.merchant2)
            let reply = try await live.write(
                .put, live.controlsPath(SandboxDemo.merchant2),
                controlsJSON(verticals: [(1500, 1610), (1502, 1620), (1504, 1612)], domains: ["competitor.example.com"], contentHash: hash))
            #expect(reply.status == 200)
            let newHash = reply.data?["contentHash"] as? String
            #expect(newHash != hash)
            #expect(try await live.contentHash(SandboxDemo.merchant2) == newHash)
        }
    }

    @Test func putWithAStaleHashIs409AndChangesNothing() async throws {
        try await withSandbox { (live) async throws in
            let stale = try await live.contentHash(SandboxDemo.merchant1)
            _ = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["first.example.com"]))
            let before = live.sandbox.controls(of: SandboxDemo.merchant1)
            let reply = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["second.example.com"], contentHash: stale))
            #expect(reply.status == 409)
            #expect(reply.error == "conflict")
            #expect(reply.message.contains(stale))
            #expect(reply.operationId == nil)
            #expect(live.sandbox.controls(of: SandboxDemo.merchant1) == before)
        }
    }

    @Test func putWithoutAHashIsLastWriteWins() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["first.example.com"]))
            let reply = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["second.example.com"]))
            #expect(reply.status == 200)
            #expect(live.sandbox.controls(of: SandboxDemo.merchant1)?.domains.map(\.domain) == ["second.example.com"])
        }
    }

    @Test func contentHashChangesIfAndOnlyIfTheStateChanges() async throws {
        try await withSandbox { (live) async throws in
            let path = live.controlsPath()
            let original = try await live.contentHash(SandboxDemo.merchant1)
            let originalName = live.sandbox.controls(of: SandboxDemo.merchant1)?.name
            // The same content (name kept, no lists) is not a change.
            let same = try await live.write(.put, path, #"{"blockedVerticals":[],"domains":[]}"#)
            #expect(same.data?["contentHash"] as? String == original)
            let changed = try await live.write(.put, path, controlsJSON(name: originalName, verticals: [(1500, 1610), (1501, 1611)]))
            let changedHash = changed.data?["contentHash"] as? String
            #expect(changedHash != original)
            // Same set in another order, with a duplicate: no change.
            let reordered = try await live.write(.put, path, controlsJSON(name: originalName, verticals: [(1501, 1611), (1500, 1610), (1500, 1610)]))
            #expect(reordered.data?["contentHash"] as? String == changedHash)
            let renamed = try await live.write(.put, path, controlsJSON(name: "Renamed", verticals: [(1501, 1611), (1500, 1610)]))
            #expect(renamed.data?["contentHash"] as? String != changedHash)
            // Back to the original state: back to the original hash.
            let restored = try await live.write(.put, path, controlsJSON(name: originalName))
            #expect(restored.data?["contentHash"] as? String == original)
        }
    }

    @Test func unmappedVerticalIs400NamingItAndChangesNothing() async throws {
        try await withSandbox { (live) async throws in
            let before = live.sandbox.controls(of: SandboxDemo.merchant2)
            let reply = try await live.write(.put, live.controlsPath(SandboxDemo.merchant2), controlsJSON(verticals: [(1500, 1610), (1700, 1610)]))
            #expect(reply.status == 400)
            #expect(reply.error == "unmapped_vertical")
            #expect(reply.message.contains("1700/1610"))
            #expect(live.sandbox.controls(of: SandboxDemo.merchant2) == before)
        }
    }

    @Test func invalidShapesAre400NamingTheField() async throws {
        try await withSandbox { (live) async throws in
            let domain = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["https://evil.example.com/x"]))
            #expect(domain.status == 400)
            #expect(domain.message.contains("domains[0].domain"))
            let policy = try await live.write(
                .put, live.controlsPath(), #"{"blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Allow"}]}"#)
            #expect(policy.status == 400)
            #expect(policy.message.contains("blockedVerticals[0].policy"))
        }
    }

    @Test func domainsAreNormalisedToLowerCaseHostnames() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["Competitor-Two.Example.COM."]))
            #expect(domainNames(reply.data) == ["competitor-two.example.com"])
        }
    }

    @Test func putAnswersAnOperationIdThatPollsAsSucceeded() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.put, live.controlsPath(), controlsJSON(domains: ["a.example.com"]))
            let id = try #require(reply.operationId)
            let operation = try await live.get("/v1/partnership/operations/\(id)")
            #expect(operation.status == 200)
            #expect(operation.data?["state"] as? String == "succeeded")
            #expect(operation.data?["type"] as? String == "marketplacecontrols.replace")
            #expect(operation.data?["accountId"] as? String == SandboxDemo.merchant1)
            #expect(domainNames(operation.data?["result"] as? [String: Any]) == ["a.example.com"])
            #expect(live.sandbox.operation(id)?.state == .succeeded)
        }
    }
}
