import FoundationEssentials

/// Rokt's data as the sandbox models it: the managed accounts with their controls, pages,
/// variants and layouts. Pure and synchronous; `commit` is the only way writes change it.
struct SandboxWorld: Sendable {
    var accounts: [String: ManagedAccount] = [:]
    var mapping: PartnerVerticalMapping
    /// Feeds every minted id; never reset, so ids stay unique across `reset()`.
    var serial: UInt64 = 0
    /// Registered accounts get all-digit ids (`SandboxResponseShapes.idsAsNumbers`).
    var numericAccountIds = false

    init(mapping: PartnerVerticalMapping) { self.mapping = mapping }

    mutating func mintSerial() -> UInt64 {
        serial += 1
        return serial
    }

    mutating func mintId(_ prefix: String) -> String {
        serial += 1
        let hex = String(serial, radix: 16)
        return prefix + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    /// Applies `write`. `stuckVariants` keep their status through a status cascade.
    /// Throws what the caller sees: 409 on a stale contentHash, 404 on an unknown layout.
    mutating func commit(_ write: SandboxWrite, now: Date, stuckVariants: Set<String> = []) throws(SandboxError) -> WriteResult {
        switch write {
        case .replaceControls(let accountId, let replacement):
            var account = try existing(accountId)
            let current = account.controls
            if let expected = replacement.contentHash, expected != current.contentHash {
                throw SandboxError(
                    status: 409, code: "conflict",
                    message: "contentHash \(expected) is stale: the controls changed since it was read "
                        + "(current contentHash \(current.contentHash)); GET, re-apply the change, PUT again")
            }
            account.controls = MarketplaceControls(
                name: replacement.name ?? current.name, blockedVerticals: replacement.blockedVerticals, domains: replacement.domains)
            accounts[accountId] = account
            return WriteResult(status: 200, data: .controls(ControlsView(accountId: accountId, controls: account.controls)), accountId: accountId)

        case .setStatus(let accountId, let status):
            var account = try existing(accountId)
            account.requestedStatus = status
            account.pages.cascade(status, except: stuckVariants)
            accounts[accountId] = account
            return WriteResult(status: 200, data: .cascade(account.statusCascade), accountId: accountId)

        case .patchLayout(let accountId, let layoutId, let patch):
            var account = try existing(accountId)
            guard let index = account.pageIndex(ofLayout: layoutId) else {
                throw .notFound("Layout \(layoutId) does not exist on account \(accountId)")
            }
            account.pages[index].layout.theme = patch.applied(to: account.pages[index].layout.theme)
            accounts[accountId] = account
            return WriteResult(status: 200, data: .layout(LayoutView(accountId: accountId, page: account.pages[index])), accountId: accountId)

        case .createPage(let accountId, let request):
            var account = try existing(accountId)
            let sameType = account.pages.filter { $0.type == request.type }.count
            let name = request.name ?? (sameType == 0 ? request.type.title : "\(request.type.title) \(sameType + 1)")
            let page = makePage(type: request.type, name: name, status: account.requestedStatus)
            account.pages.append(page)
            accounts[accountId] = account
            return WriteResult(status: 201, data: .page(PageView(accountId: accountId, page: page)), accountId: accountId)

        case .setUpPayout(let accountId, _):
            var account = try existing(accountId)
            let stripeAccount = account.stripeAccountId ?? "acct_1Sbx" + mintId("").uppercased()
            account.stripeAccountId = stripeAccount
            accounts[accountId] = account
            let link = mintId("")
            let view = PayoutView(
                accountId: accountId, stripeAccountId: stripeAccount,
                onboardingUrl: "https://connect.stripe.com/setup/e/\(stripeAccount)/sbx\(link)",
                expiresAt: Timestamp.format(now.addingTimeInterval(300)))
            return WriteResult(status: 200, data: .payout(view), accountId: accountId)

        case .register(let parent, let registration):
            // Idempotent on external_account_id within one parent: the same id, the same account.
            if let account = accounts.values.first(where: {
                $0.parentAccountId == parent && $0.externalAccountId == registration.externalAccountId
            }) {
                return WriteResult(status: 200, data: .account(AccountView(account)), accountId: account.accountId)
            }
            let accountId = numericAccountIds ? String(900_000_000 + mintSerial()) : mintId("acct_")
            let account = ManagedAccount(
                accountId: accountId, externalAccountId: registration.externalAccountId, parentAccountId: parent,
                name: registration.name, createdAt: now, controls: MarketplaceControls(name: registration.name),
                pages: [makePage(type: .confirmation, name: "Confirmation", status: .active)],
                requestedStatus: .active, stripeAccountId: nil)
            accounts[accountId] = account
            return WriteResult(status: 201, data: .account(AccountView(account)), accountId: accountId)

        case .requestNetworkPrivacy(_, let request):
            let view = PrivacyRequestView(
                privacyRequestId: mintId("npr_"), requestType: request.kind.rawValue,
                identifierTypes: request.identifiers.map(\.type.rawValue), status: "received", receivedAt: Timestamp.format(now))
            return WriteResult(status: 201, data: .privacyRequest(view), accountId: nil)

        case .requestDataDeletion(let accountId, let request):
            _ = try existing(accountId)
            let view = DeletionRequestView(
                deletionRequestId: mintId("ddr_"), accountId: accountId, reason: request.reason,
                status: "received", receivedAt: Timestamp.format(now))
            return WriteResult(status: 201, data: .deletionRequest(view), accountId: accountId)
        }
    }

    /// A page with one variant ("<name> - Default") and a standard layout.
    mutating func makePage(type: PageType, name: String, status: VariantStatus) -> Page {
        let pageId = mintId("pg_")
        let variant = PageVariant(pageVariantId: mintId("pv_"), pageId: pageId, name: "\(name) - Default", status: status)
        return Page(pageId: pageId, type: type, name: name, variants: [variant], layout: Layout(layoutId: mintId("ly_"), theme: .standard))
    }

    private func existing(_ accountId: String) throws(SandboxError) -> ManagedAccount {
        guard let account = accounts[accountId] else { throw .forbidden("Account \(accountId) is not managed by this manager account") }
        return account
    }
}
