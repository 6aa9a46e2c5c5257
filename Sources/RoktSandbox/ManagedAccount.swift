import FoundationEssentials
import JSON

/// A merchant a manager account onboarded: its identity, its controls and its surfaces.
///
/// Guarantees: `parentAccountId` never changes; every page has exactly one layout; variant,
/// page and layout ids are unique within the sandbox.
public struct ManagedAccount: Sendable, Equatable {
    public var accountId: String
    /// The partner's own stable id for the merchant, unique per parent.
    public var externalAccountId: String
    public var parentAccountId: String
    public var name: String
    public var createdAt: Date
    public var controls: MarketplaceControls
    public var pages: [Page]
    /// What the last status PUT asked for (`active` for a new account); the aggregate of an
    /// account without non-archived variants.
    public var requestedStatus: VariantStatus
    /// Set by the first payout setup; later setups reuse it (one Stripe Connect account).
    public var stripeAccountId: String?

    public var statusCascade: StatusCascade {
        StatusCascade(accountId: accountId, pages: pages, requested: requestedStatus)
    }

    /// Every variant, archived ones included.
    public var allVariants: [PageVariant] { pages.flatMap(\.variants) }

    func pageIndex(ofLayout layoutId: String) -> Int? {
        pages.firstIndex { $0.layout.layoutId == layoutId }
    }
}

/// The body of `POST …/pages`: `{type: confirmation|tracking|returns, name?}`.
struct PageRequest: Sendable, Equatable {
    var type: PageType
    var name: String?

    static func parse(_ body: JSONValue?) throws(SandboxError) -> PageRequest {
        let types = PageType.allCases.map(\.rawValue).joined(separator: ", ")
        guard let body else { throw .validation("The request body is required: {type: \(types), name?}") }
        var reader = try JSONObjectReader(body)
        guard let raw = try reader.string("type") else { throw .validation("type is required (one of \(types))") }
        guard let type = PageType(rawValue: raw) else { throw .validation("type must be one of \(types), got \"\(raw)\"") }
        let name = try reader.string("name")
        if let name, name.isEmpty || name.count > 200 { throw .validation("name must be 1 to 200 characters") }
        try reader.rejectUnknownMembers(allowed: "type, name")
        return PageRequest(type: type, name: name)
    }
}

/// The body of `POST /v1/accounts/register/partnership`. Its members are snake_case, as the
/// docs spell the idempotency field `external_account_id`.
struct Registration: Sendable, Equatable {
    var externalAccountId: String
    var name: String
    var website: String?
    var country: String?

    static func parse(_ body: JSONValue?) throws(SandboxError) -> Registration {
        guard let body else { throw .validation("The request body is required: {external_account_id, name, website?, country?}") }
        var reader = try JSONObjectReader(body)
        let external = try reader.requiredString("external_account_id")
        let allowed = external.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":")].contains($0)
        }
        guard (1...128).contains(external.utf8.count), allowed else {
            throw .validation("external_account_id must be 1 to 128 characters of letters, digits, '-', '_', '.', ':'")
        }
        let name = try reader.requiredString("name")
        guard (1...200).contains(name.count), !name.allSatisfy(\.isWhitespace) else { throw .validation("name must be 1 to 200 characters") }
        let website = try reader.string("website")
        if let website, !(website.hasPrefix("https://") || website.hasPrefix("http://")) || website.count > 2048 {
            throw .validation("website must be an http(s) URL")
        }
        let country = try reader.string("country")
        if let country, country.utf8.count != 2 || !country.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) {
            throw .validation("country must be an ISO 3166-1 alpha-2 code such as \"US\", got \"\(country)\"")
        }
        try reader.rejectUnknownMembers(allowed: "external_account_id, name, website, country")
        return Registration(externalAccountId: external, name: name, website: website, country: country)
    }
}

/// The optional body of `POST …/payout-setup`: where Stripe sends the merchant back.
struct PayoutSetupRequest: Sendable, Equatable {
    var returnUrl: String?
    var refreshUrl: String?

    static func parse(_ body: JSONValue?) throws(SandboxError) -> PayoutSetupRequest {
        guard let body else { return PayoutSetupRequest() }
        var reader = try JSONObjectReader(body)
        var request = PayoutSetupRequest()
        for key in ["returnUrl", "refreshUrl"] {
            guard let url = try reader.string(key) else { continue }
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count <= 2048 else {
                throw .validation("\(key) must be an http(s) URL, got \"\(url)\"")
            }
            if key == "returnUrl" { request.returnUrl = url } else { request.refreshUrl = url }
        }
        try reader.rejectUnknownMembers(allowed: "returnUrl, refreshUrl")
        return request
    }
}

/// The optional body of `POST …/data-deletion-requests`.
struct DataDeletionRequest: Sendable, Equatable {
    var reason: String?

    static func parse(_ body: JSONValue?) throws(SandboxError) -> DataDeletionRequest {
        guard let body else { return DataDeletionRequest() }
        var reader = try JSONObjectReader(body)
        let reason = try reader.string("reason")
        if let reason, reason.count > 500 { throw .validation("reason must be at most 500 characters") }
        try reader.rejectUnknownMembers(allowed: "reason")
        return DataDeletionRequest(reason: reason)
    }
}
