import Foundation
import JSON
@testable import RoktSandbox
import Testing

/// The PUT controls body, validated without sockets.
@Suite struct ControlsValidationTests {
    func parse(_ json: String) throws(SandboxError) -> ControlsReplacement {
        try ControlsReplacement.parse(try JSONValue.parseBody(Array(json.utf8)), mapping: .demo)
    }

    func refusal(_ json: String) -> SandboxError? {
        do { _ = try parse(json); return nil } catch { return error }
    }

    @Test func mappedPairsAtTheEdgesOfTheTableAreAccepted() throws {
        let parsed = try parse(controlsJSON(verticals: [(1500, 1600), (1599, 1699)]))
        #expect(parsed.blockedVerticals.map(\.partnerVerticalId) == [1500, 1599])
    }

    @Test(arguments: [(1499, 1610), (1600, 1610), (1500, 1599), (1500, 1700)])
    func unmappedPairIs400NamingThePair(vertical: Int, subVertical: Int) {
        let error = refusal(controlsJSON(verticals: [(1500, 1610), (vertical, subVertical)]))
        #expect(error?.status == 400)
        #expect(error?.code == "unmapped_vertical")
        #expect(error?.message.contains("\(vertical)/\(subVertical)") == true)
        #expect(error?.message.contains("blockedVerticals[1]") == true)
    }

    @Test func policyOtherThanBlockIs400NamingTheField() {
        let error = refusal(#"{"blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Allow"}]}"#)
        #expect(error?.status == 400)
        #expect(error?.message.contains("blockedVerticals[0].policy") == true)
        let domainError = refusal(#"{"domains":[{"domain":"a.example.com","policy":"block"}]}"#)
        #expect(domainError?.message.contains("domains[0].policy") == true)
    }

    @Test func missingPolicyIs400() {
        let error = refusal(#"{"blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610}]}"#)
        #expect(error?.message.contains("blockedVerticals[0].policy is required") == true)
    }

    @Test(arguments: [
        "https://competitor.example.com", "competitor.example.com/path", "competitor.example.com:443",
        "*.example.com", "192.168.0.1", "bad domain.com", "a..example.com", "localhost", "-a.example.com", "",
    ])
    func nonHostnameDomainIs400NamingTheField(domain: String) {
        let error = refusal(controlsJSON(domains: ["ok.example.com", domain]))
        #expect(error?.status == 400)
        #expect(error?.code == "validation_error")
        #expect(error?.message.contains("domains[1].domain") == true)
    }

    @Test func domainsAreStoredLowerCaseWithoutTrailingDotAndDeduplicated() throws {
        let parsed = try parse(controlsJSON(domains: ["Competitor.Example.COM.", "competitor.example.com", "b.example.org"]))
        let controls = MarketplaceControls(name: "n", domains: parsed.domains)
        #expect(controls.domains.map(\.domain) == ["b.example.org", "competitor.example.com"])
    }

    @Test func wrongTypeNamesTheField() {
        let error = refusal(#"{"blockedVerticals":[{"partnerVerticalId":"1500","partnerSubVerticalId":1610,"policy":"Block"}]}"#)
        #expect(error?.message.contains("blockedVerticals[0].partnerVerticalId must be an integer") == true)
        #expect(refusal(#"{"domains":{"domain":"a.example.com"}}"#)?.message.contains("domains must be an array") == true)
        #expect(refusal(#"{"contentHash":5}"#)?.message.contains("contentHash must be a string") == true)
    }

    @Test func unknownMemberIs400NamingIt() {
        // A typo must not silently clear every vertical under SET semantics.
        let error = refusal(#"{"name":"n","blockedVertical":[]}"#)
        #expect(error?.status == 400)
        #expect(error?.message.contains("blockedVertical ") == true)
        #expect(refusal(#"{"domains":[{"domain":"a.example.com","policy":"Block","note":"x"}]}"#)?.message.contains("domains[0].note") == true)
    }

    @Test func absentListsMeanEmptyAndAbsentNameKeepsTheCurrentOne() throws {
        let parsed = try parse(#"{"contentHash":"h_1"}"#)
        #expect(parsed.blockedVerticals.isEmpty && parsed.domains.isEmpty)
        #expect(parsed.name == nil)
        #expect(parsed.contentHash == "h_1")
    }

    @Test func malformedJSONAndMissingBodyAre400() {
        #expect(refusal("{nope")?.code == "malformed_json")
        #expect(refusal("")?.status == 400)
        #expect(refusal("[]")?.message.contains("must be a JSON object") == true)
    }
}

@Suite struct ContentHashTests {
    let base = MarketplaceControls(
        name: "Acme", blockedVerticals: [BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610)],
        domains: [BlockedDomain(domain: "competitor.example.com")])

    @Test func hashIsHPrefixedSixteenHexDigits() {
        let hash = base.contentHash
        #expect(hash.hasPrefix("h_"))
        #expect(hash.count == 18)
        let digits = hash.dropFirst(2)
        #expect(digits.allSatisfy { $0.isHexDigit })
    }

    @Test func equalContentGivesEqualHashWhateverTheOrderOrDuplicates() {
        let shuffled = MarketplaceControls(
            name: "Acme",
            blockedVerticals: [
                BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
                BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
            ],
            domains: [BlockedDomain(domain: "competitor.example.com")])
        #expect(shuffled.contentHash == base.contentHash)
        let twoA = MarketplaceControls(
            name: "n",
            blockedVerticals: [
                .init(partnerVerticalId: 1502, partnerSubVerticalId: 1620),
                .init(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
            ])
        let twoB = MarketplaceControls(
            name: "n",
            blockedVerticals: [
                .init(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
                .init(partnerVerticalId: 1502, partnerSubVerticalId: 1620),
            ])
        #expect(twoA.contentHash == twoB.contentHash)
    }

    @Test func anyChangeOfNameVerticalsOrDomainsChangesTheHash() {
        var renamed = base
        renamed.name = "Acme 2"
        let moreVerticals = MarketplaceControls(
            name: "Acme", blockedVerticals: base.blockedVerticals + [.init(partnerVerticalId: 1504, partnerSubVerticalId: 1612)],
            domains: base.domains)
        let otherSub = MarketplaceControls(
            name: "Acme", blockedVerticals: [.init(partnerVerticalId: 1500, partnerSubVerticalId: 1611)], domains: base.domains)
        let noDomains = MarketplaceControls(name: "Acme", blockedVerticals: base.blockedVerticals)
        // A domain that spells like a vertical must not collide with one (the encoding is length-prefixed).
        let hashes = [base, renamed, moreVerticals, otherSub, noDomains].map(\.contentHash)
        #expect(Set(hashes).count == hashes.count)
    }
}
