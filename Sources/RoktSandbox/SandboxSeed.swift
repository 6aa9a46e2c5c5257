import FoundationEssentials

/// What the sandbox holds at start and after `reset()`.
public enum SandboxSeed: String, Sendable, CaseIterable {
    /// The demo merchants of `SandboxDemo` (fixed ids, documented in docs/sandbox.md).
    case demo
    /// No merchants at all; the credentials still work, so a client can register its own.
    case empty
}

/// The fixed values of the demo seed, for tests and documentation.
public enum SandboxDemo {
    public static let token = "sandbox-token"
    public static let parentAccountId = "demo-parent"
    /// A second manager, so that cross-parent refusals can be tried.
    public static let otherToken = "other-token"
    public static let otherParentAccountId = "other-parent"
    public static let ecommerceApiKey = "sandbox-api-key"
    public static let tagId = "sandbox-tag"

    /// Plain: no blocks, one confirmation page with two active variants.
    public static let merchant1 = "demo-merchant-1"
    /// Blocks 1500/1610, 1502/1620 and competitor.example.com; two active variants.
    public static let merchant2 = "demo-merchant-2"
    /// Two active variants and one archived (paused) variant.
    public static let merchant3 = "demo-merchant-3"
    /// The other parent's merchant.
    public static let otherMerchant = "other-merchant-1"

    public static let merchant1Variants = ["dm1-variant-default", "dm1-variant-mobile"]
    public static let merchant1Layout = "dm1-layout-confirmation"
    public static let merchant2Variants = ["dm2-variant-default", "dm2-variant-mobile"]
    public static let merchant3ActiveVariants = ["dm3-variant-default", "dm3-variant-mobile"]
    public static let merchant3ArchivedVariant = "dm3-variant-legacy"
    public static let otherMerchantLayout = "om1-layout-confirmation"
}

extension SandboxWorld {
    /// The world a seed describes, for the primary manager `parentAccountId` (the demo's
    /// `demo-parent` unless configured otherwise) and the fixed second manager.
    static func seeded(_ seed: SandboxSeed, parentAccountId: String, mapping: PartnerVerticalMapping, now: Date) -> SandboxWorld {
        var world = SandboxWorld(mapping: mapping)
        guard seed == .demo else { return world }
        func account(
            _ id: String, prefix: String, parent: String, name: String,
            verticals: [BlockedVertical] = [], domains: [BlockedDomain] = [], archived: Bool = false
        ) -> ManagedAccount {
            let pageId = "\(prefix)-page-confirmation"
            var variants = [
                PageVariant(pageVariantId: "\(prefix)-variant-default", pageId: pageId, name: "Confirmation - Default", status: .active),
                PageVariant(pageVariantId: "\(prefix)-variant-mobile", pageId: pageId, name: "Confirmation - Mobile", status: .active),
            ]
            if archived {
                variants.append(
                    PageVariant(
                        pageVariantId: "\(prefix)-variant-legacy", pageId: pageId, name: "Confirmation - Legacy",
                        status: .paused, isArchived: true))
            }
            let page = Page(
                pageId: pageId, type: .confirmation, name: "Confirmation", variants: variants,
                layout: Layout(layoutId: "\(prefix)-layout-confirmation", theme: .standard))
            return ManagedAccount(
                accountId: id, externalAccountId: "ext-\(id)", parentAccountId: parent, name: name, createdAt: now,
                controls: MarketplaceControls(name: "\(name) Controls", blockedVerticals: verticals, domains: domains),
                pages: [page], requestedStatus: .active, stripeAccountId: nil)
        }
        let accounts = [
            account(SandboxDemo.merchant1, prefix: "dm1", parent: parentAccountId, name: "Demo Merchant One"),
            account(
                SandboxDemo.merchant2, prefix: "dm2", parent: parentAccountId, name: "Demo Merchant Two",
                verticals: [
                    BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610),
                    BlockedVertical(partnerVerticalId: 1502, partnerSubVerticalId: 1620),
                ],
                domains: [BlockedDomain(domain: "competitor.example.com")]),
            account(SandboxDemo.merchant3, prefix: "dm3", parent: parentAccountId, name: "Demo Merchant Three", archived: true),
            account(SandboxDemo.otherMerchant, prefix: "om1", parent: SandboxDemo.otherParentAccountId, name: "Other Merchant One"),
        ]
        for account in accounts { world.accounts[account.accountId] = account }
        return world
    }
}
