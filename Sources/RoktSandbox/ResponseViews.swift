import FoundationEssentials
import JSON

/// The `data` of a Partnerships response, one case per resource. Member names are camelCase
/// throughout; absent values are written as explicit `null`s where the schema lists them.
indirect enum SandboxData: Sendable, Encodable {
    case controls(ControlsView)
    case cascade(StatusCascade)
    case layout(LayoutView)
    case page(PageView)
    case payout(PayoutView)
    case account(AccountView)
    case accounts(AccountListView)
    case privacyRequest(PrivacyRequestView)
    case deletionRequest(DeletionRequestView)
    case operation(OperationView)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .controls(let view): try view.encode(to: encoder)
        case .cascade(let view): try view.encode(to: encoder)
        case .layout(let view): try view.encode(to: encoder)
        case .page(let view): try view.encode(to: encoder)
        case .payout(let view): try view.encode(to: encoder)
        case .account(let view): try view.encode(to: encoder)
        case .accounts(let view): try view.encode(to: encoder)
        case .privacyRequest(let view): try view.encode(to: encoder)
        case .deletionRequest(let view): try view.encode(to: encoder)
        case .operation(let view): try view.encode(to: encoder)
        }
    }
}

struct ControlsView: Sendable, Encodable {
    var accountId: String
    var name: String
    var blockedVerticals: [BlockedVertical]
    var domains: [BlockedDomain]
    var contentHash: String

    init(accountId: String, controls: MarketplaceControls) {
        self.accountId = accountId
        name = controls.name
        blockedVerticals = controls.blockedVerticals
        domains = controls.domains
        contentHash = controls.contentHash
    }
}

extension ControlsView {
    /// Sorted keys, as `encodeSorted` writes them, without JSONEncoder's cost.
    func write(to out: inout [UInt8]) {
        out += Array(#"{"accountId":\#(JSONString.escape(accountId)),"blockedVerticals":["#.utf8)
        for (index, vertical) in blockedVerticals.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(
                #"{"partnerSubVerticalId":\#(vertical.partnerSubVerticalId),"partnerVerticalId":\#(vertical.partnerVerticalId),"policy":\#(JSONString.escape(vertical.policy))}"#
                    .utf8)
        }
        out += Array(#"],"contentHash":\#(JSONString.escape(contentHash)),"domains":["#.utf8)
        for (index, domain) in domains.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"domain":\#(JSONString.escape(domain.domain)),"policy":\#(JSONString.escape(domain.policy))}"#.utf8)
        }
        out += Array(#"],"name":\#(JSONString.escape(name))}"#.utf8)
    }
}

struct LayoutView: Sendable, Encodable {
    var accountId: String
    var layoutId: String
    var pageId: String
    var primaryColor: String
    var backgroundColor: String
    var textColor: String
    var closeButtonColor: String
    var borderRadius: Double

    init(accountId: String, page: Page) {
        self.accountId = accountId
        layoutId = page.layout.layoutId
        pageId = page.pageId
        let theme = page.layout.theme
        primaryColor = theme.primaryColor
        backgroundColor = theme.backgroundColor
        textColor = theme.textColor
        closeButtonColor = theme.closeButtonColor
        borderRadius = theme.borderRadius
    }
}

struct PageView: Sendable, Encodable {
    var accountId: String
    var pageId: String
    var type: PageType
    var name: String
    var layoutId: String
    var variants: [StatusCascade.Variant]

    init(accountId: String, page: Page) {
        self.accountId = accountId
        pageId = page.pageId
        type = page.type
        name = page.name
        layoutId = page.layout.layoutId
        variants = page.variants.filter { !$0.isArchived }.map {
            StatusCascade.Variant(pageVariantId: $0.pageVariantId, pageId: $0.pageId, name: $0.name, status: $0.status)
        }
    }
}

struct PayoutView: Sendable, Encodable {
    var accountId: String
    var stripeAccountId: String
    var onboardingUrl: String
    var expiresAt: String
}

struct AccountView: Sendable, Encodable {
    var accountId: String
    var externalAccountId: String
    var parentAccountId: String
    var name: String
    var createdAt: String

    init(_ account: ManagedAccount) {
        accountId = account.accountId
        externalAccountId = account.externalAccountId
        parentAccountId = account.parentAccountId
        name = account.name
        createdAt = Timestamp.format(account.createdAt)
    }
}

struct AccountListView: Sendable, Encodable {
    var accounts: [AccountView]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case accounts, nextCursor }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(accounts, forKey: .accounts)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null on the last page
    }
}

struct PrivacyRequestView: Sendable, Encodable {
    var privacyRequestId: String
    var requestType: String
    var identifierTypes: [String]
    var status: String
    var receivedAt: String
}

struct DeletionRequestView: Sendable, Encodable {
    var deletionRequestId: String
    var accountId: String
    var reason: String?
    var status: String
    var receivedAt: String

    enum CodingKeys: String, CodingKey { case deletionRequestId, accountId, reason, status, receivedAt }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(deletionRequestId, forKey: .deletionRequestId)
        try container.encode(accountId, forKey: .accountId)
        try container.encode(reason, forKey: .reason)
        try container.encode(status, forKey: .status)
        try container.encode(receivedAt, forKey: .receivedAt)
    }
}

/// `GET /v1/partnership/operations/{id}` and the data of a 202.
struct OperationView: Sendable, Encodable {
    struct Failure: Sendable, Encodable {
        var status: Int
        var error: String
        var message: String
    }

    var operationId: String
    var type: String
    var accountId: String?
    var state: String
    var createdAt: String
    var updatedAt: String
    var result: SandboxData?
    var error: Failure?

    enum CodingKeys: String, CodingKey { case operationId, type, accountId, state, createdAt, updatedAt, result, error }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(operationId, forKey: .operationId)
        try container.encode(type, forKey: .type)
        try container.encode(accountId, forKey: .accountId)
        try container.encode(state, forKey: .state)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
    }
}

/// RFC 3339 timestamps in UTC with milliseconds (`2026-01-01T00:00:00.000Z`).
enum Timestamp {
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
