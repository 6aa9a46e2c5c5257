@testable import RoktSandbox
import Testing

/// The controls answer is written by hand on the hot path; it must be the bytes JSONEncoder writes.
@Suite struct ReplyEncodingTests {
    @Test func directControlsWriterMatchesTheEncoder() {
        let controls = MarketplaceControls(
            name: "Shop \"One\" / ü",
            blockedVerticals: [
                BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
                BlockedVertical(partnerVerticalId: 1700, partnerSubVerticalId: 1710),
            ],
            domains: [BlockedDomain(domain: "a.example.com"), BlockedDomain(domain: "b.example.com")])
        for view in [ControlsView(accountId: "acct/1", controls: controls), ControlsView(accountId: "a", controls: MarketplaceControls(name: ""))] {
            var direct: [UInt8] = []
            view.write(to: &direct)
            #expect(String(decoding: direct, as: UTF8.self) == String(decoding: SandboxReply.encodeSorted(view), as: UTF8.self))
        }
    }
}
