import Rokt
import Testing
@testable import Gateway

@Suite struct ControlsMergeTests {
    static let state = MarketplaceControls(
        name: "Acme Network Controls",
        blockedVerticals: [
            BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
            BlockedVertical(partnerVerticalId: 1502, partnerSubVerticalId: 1620),
        ],
        domains: [BlockedDomain(domain: "competitor.example.com")],
        contentHash: "h_abc123")

    @Test func addVerticalKeepsExistingBlocks() {
        let (outcomes, result) = ControlsMerge.apply([.addVertical(VerticalPair(1504, 1612))], to: Self.state)
        #expect(outcomes == [.applied(changed: true)])
        #expect(result.blockedVerticals.map(\.pair) == [VerticalPair(1500, 1610), VerticalPair(1502, 1620), VerticalPair(1504, 1612)])
        #expect(result.domains == Self.state.domains)
        #expect(result.name == "Acme Network Controls")
        #expect(result.contentHash == "h_abc123")  // the PUT carries the hash it was based on
    }

    @Test func addingWhatIsThereChangesNothing() {
        let (outcomes, result) = ControlsMerge.apply([.addVertical(VerticalPair(1500, 1610)), .addDomain("competitor.example.com")], to: Self.state)
        #expect(outcomes == [.applied(changed: false), .applied(changed: false)])
        #expect(result == Self.state)
    }

    @Test func removingWhatIsAbsentChangesNothing() {
        let (outcomes, _) = ControlsMerge.apply([.removeVertical(vertical: 1599, subVertical: nil), .removeDomain("nope.example.com")], to: Self.state)
        #expect(outcomes == [.applied(changed: false), .applied(changed: false)])
    }

    @Test func removeVerticalWithoutSubVerticalRemovesEveryPair() {
        var state = Self.state
        state.blockedVerticals.append(BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1611))
        let result = ControlsMerge.apply(.removeVertical(vertical: 1500, subVertical: nil), to: state)
        #expect(result.blockedVerticals.map(\.pair) == [VerticalPair(1502, 1620)])
        let narrowed = ControlsMerge.apply(.removeVertical(vertical: 1500, subVertical: 1611), to: state)
        #expect(narrowed.blockedVerticals.map(\.pair) == [VerticalPair(1500, 1610), VerticalPair(1502, 1620)])
    }

    @Test func manyChangesMergeIntoOneState() {
        let changes: [ControlsChange] = [
            .addVertical(VerticalPair(1504, 1612)), .addDomain("two.example.com"), .removeDomain("competitor.example.com"),
            .addVertical(VerticalPair(1504, 1612)),
        ]
        let (outcomes, result) = ControlsMerge.apply(changes, to: Self.state)
        #expect(outcomes == [.applied(changed: true), .applied(changed: true), .applied(changed: true), .applied(changed: false)])
        #expect(result.domains.map(\.domain) == ["two.example.com"])
        #expect(result.blockedVerticals.count == 3)
    }

    @Test func batchRemovesBeforeAdding() {
        let batch = ControlsBatch(
            addVerticals: [VerticalPair(1500, 1610)], addDomains: ["b.example.com"],
            removeVerticals: [VerticalRemoval(vertical: 1500, subVertical: nil)], removeDomains: ["competitor.example.com"])
        let (outcomes, result) = ControlsMerge.apply([.batch(batch)], to: Self.state)
        #expect(outcomes == [.applied(changed: true)])
        #expect(result.blockedVerticals.map(\.pair) == [VerticalPair(1502, 1620), VerticalPair(1500, 1610)])
        #expect(result.domains.map(\.domain) == ["b.example.com"])
    }

    @Test func replacementWithTheCurrentHashReplacesEverything() {
        let replacement = ControlsReplacement(name: nil, verticals: [VerticalPair(1501, 1601)], domains: [], expectedHash: "h_abc123", viaIfMatch: false)
        let (outcomes, result) = ControlsMerge.apply([.replace(replacement)], to: Self.state)
        #expect(outcomes == [.applied(changed: true)])
        #expect(result.blockedVerticals.map(\.pair) == [VerticalPair(1501, 1601)])
        #expect(result.domains.isEmpty)
    }

    @Test func replacementWithAStaleHashIsAConflictAndChangesNothing() {
        let replacement = ControlsReplacement(name: nil, verticals: [], domains: [], expectedHash: "h_old", viaIfMatch: true)
        let (outcomes, result) = ControlsMerge.apply([.replace(replacement)], to: Self.state)
        #expect(outcomes == [.conflict(expected: "h_old", actual: "h_abc123", viaIfMatch: true)])
        #expect(result == Self.state)
    }

    @Test func replacementBehindAnEarlierChangeInTheSameBatchIsAConflict() {
        let replacement = ControlsReplacement(name: nil, verticals: [], domains: [], expectedHash: "h_abc123", viaIfMatch: false)
        let (outcomes, result) = ControlsMerge.apply([.addDomain("x.example.com"), .replace(replacement)], to: Self.state)
        #expect(outcomes[1] == .conflict(expected: "h_abc123", actual: nil, viaIfMatch: false))
        #expect(result.domains.count == 2)
    }

    @Test func differenceListsAddedAndRemovedBlocks() {
        let after = ControlsMerge.apply(.batch(ControlsBatch(addVerticals: [VerticalPair(1504, 1612)], removeDomains: ["competitor.example.com"])), to: Self.state)
        let difference = ControlsMerge.difference(from: Self.state, to: after)
        #expect(difference.addedVerticals == [VerticalPair(1504, 1612)])
        #expect(difference.removedDomains == ["competitor.example.com"])
        #expect(difference.addedDomains.isEmpty && difference.removedVerticals.isEmpty)
    }
}

@Suite struct DomainNameTests {
    @Test func normalisesCaseAndTrailingDot() throws {
        #expect(try DomainName("Competitor.Example.COM.").value == "competitor.example.com")
        #expect(try DomainName("xn--bcher-kva.example").value == "xn--bcher-kva.example")
    }

    @Test(arguments: [
        "", ".", "https://example.com", "example.com/path", "example.com:443", "exa mple.com", "a..b.com",
        "localhost", "10.0.0.1", "-bad.com", "bad-.com", "under_score.com", "bücher.de", String(repeating: "a", count: 64) + ".com",
    ])
    func refusesWhatIsNotAHostname(raw: String) {
        #expect(throws: DomainName.Invalid.self) { try DomainName(raw) }
    }
}

@Suite struct RetryPolicyTests {
    @Test func ceilingDoublesUpToTheCap() {
        let policy = RetryPolicy()
        let ceilings = (1...11).map { policy.ceiling(afterAttempt: $0) }
        #expect(ceilings == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map { Duration.seconds($0) })
        #expect(policy.ceiling(afterAttempt: 500) == .seconds(300))
    }

    @Test func delayStaysWithinTheCeilingAndHonoursRetryAfter() {
        var random = SystemRandomNumberGenerator()
        let policy = RetryPolicy(base: .milliseconds(100), cap: .seconds(2))
        for attempt in 1...20 {
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil, using: &random)
            #expect(delay >= .zero && delay <= policy.ceiling(afterAttempt: attempt))
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(7), using: &random) == .seconds(7))
    }

    @Test func maxAgeStopsRetries() {
        let policy = RetryPolicy(maxAge: .seconds(60))
        #expect(policy.allowsRetry(createdAt: 0, now: 59_999))
        #expect(!policy.allowsRetry(createdAt: 0, now: 60_000))
    }
}

@Suite struct TimestampTests {
    @Test func formatsRFC3339WithMilliseconds() {
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(1_795_423_895_123) == "2026-11-23T08:51:35.123Z")
    }
}
