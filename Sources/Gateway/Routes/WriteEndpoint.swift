import HTTP
import JSON
import Rokt

/// One write endpoint of openapi/gateway.yaml as data: what `WritePipeline` needs to validate,
/// dry-run or submit it, and answer (its scope and path merchant are `KeyRequirement`'s). `all` is the table of every write the gateway
/// takes; the router registers it, and WritePipelineTests runs its checks over each row.
struct WriteEndpoint: Sendable, CustomStringConvertible {
    /// Whose account the write touches, and so which keys may make it.
    enum Merchant: Sendable, Equatable {
        /// `{accountId}` of the path: the key must be allowed on it.
        case path
        /// No existing account (network-wide, or one being created): only a key without a
        /// merchant list may write; `refusal` is the 403's detail.
        case unrestrictedKeyOnly(refusal: String)
    }

    /// What `?dry_run=true` does.
    enum DryRunSupport: Sendable, Equatable {
        /// The change computed on the current state, validated by Rokt's own dry run: `{dryRun, before, after, changes}`.
        case preview
        /// Rokt's own dry run of the single write: `{dryRun, after}`.
        case forwarded
        /// Rokt cannot dry-run it (it has external side effects): 400 `dry_run_not_supported`.
        case refused
    }

    /// The body (and path parameters other than `accountId`) read into what will be submitted.
    /// `merchant` is the validated `accountId`, "" for an endpoint without one.
    typealias Validator = @Sendable (_ request: HTTPRequest, _ merchant: String) throws(Problem) -> ValidatedWrite

    let method: HTTPMethod
    let path: String
    let merchant: Merchant
    let dryRun: DryRunSupport
    /// 201 instead of 200 when the operation succeeded having created something (a new merchant).
    let createdOnSuccess: Bool
    let validate: Validator
    /// Told of each operation this endpoint committed, before it is answered.
    let accepted: (@Sendable (Operation, Logger) -> Void)?

    init(
        _ method: HTTPMethod, _ path: String, merchant: Merchant = .path, dryRun: DryRunSupport,
        createdOnSuccess: Bool = false, accepted: (@Sendable (Operation, Logger) -> Void)? = nil, validate: @escaping Validator
    ) {
        self.method = method
        self.path = path
        self.merchant = merchant
        self.dryRun = dryRun
        self.createdOnSuccess = createdOnSuccess
        self.accepted = accepted
        self.validate = validate
    }

    var description: String { "\(method.rawValue) \(path)" }
}

/// What a write endpoint submits, once its request is valid.
enum WriteIntent: Sendable {
    case controls(ControlsChange)
    case status(PlacementStatus)
    /// One Rokt write sent once (retried with its key).
    case single(SingleWrite)
    /// A single write bound to its `externalAccountId` in the same transaction (see `MerchantRoutes`).
    case register(RoktRegistration)

    var operationIntent: OperationIntent {
        switch self {
        case .controls(let change): .controls(change)
        case .status(let status): .status(status)
        case .single(let write): .single(write)
        case .register(let registration): .single(MerchantRoutes.write(registering: registration))
        }
    }
}

/// A valid write request: its intent, and the operation's `request` as stored and shown.
struct ValidatedWrite: Sendable {
    let intent: WriteIntent
    let request: JSONValue

    static func single(_ validated: (write: SingleWrite, request: JSONValue)) -> ValidatedWrite {
        ValidatedWrite(intent: .single(validated.write), request: validated.request)
    }
}

extension WriteEndpoint {
    /// Every write endpoint, in the order of openapi/gateway.yaml.
    static let all: [WriteEndpoint] = [
        WriteEndpoint(
            .post, "/v1/merchants", merchant: .unrestrictedKeyOnly(refusal: MerchantRoutes.restrictedKeyRefusal),
            dryRun: .refused, createdOnSuccess: true
        ) { request, _ throws(Problem) in
            try MerchantRoutes.registration(request)
        },
        WriteEndpoint(.put, "/v1/merchants/{accountId}/controls", dryRun: .preview) { request, _ throws(Problem) in
            try ControlsRoutes.replacement(request)
        },
        WriteEndpoint(.patch, "/v1/merchants/{accountId}/controls", dryRun: .preview) { request, _ throws(Problem) in
            try ControlsRoutes.batch(request)
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/controls/blocked-verticals", dryRun: .preview) { request, _ throws(Problem) in
            try ControlsRoutes.addVertical(request)
        },
        WriteEndpoint(.delete, "/v1/merchants/{accountId}/controls/blocked-verticals/{partnerVerticalId}", dryRun: .preview) {
            request, _ throws(Problem) in try ControlsRoutes.removeVertical(request)
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/controls/blocked-domains", dryRun: .preview) { request, _ throws(Problem) in
            try ControlsRoutes.addDomain(request)
        },
        WriteEndpoint(.delete, "/v1/merchants/{accountId}/controls/blocked-domains/{domain}", dryRun: .preview) { request, _ throws(Problem) in
            try ControlsRoutes.removeDomain(request)
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/pause", dryRun: .preview) { request, _ throws(Problem) in
            try StatusRoutes.change(request, to: .paused)
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/resume", dryRun: .preview) { request, _ throws(Problem) in
            try StatusRoutes.change(request, to: .active)
        },
        WriteEndpoint(.patch, "/v1/merchants/{accountId}/layouts/{layoutId}/theme", dryRun: .forwarded) { request, merchant throws(Problem) in
            try .single(ThemeRoutes.patch(request, merchant: merchant))
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/pages", dryRun: .forwarded) { request, merchant throws(Problem) in
            try .single(PageRoutes.page(request, merchant: merchant))
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/payout-setup", dryRun: .refused) { request, merchant throws(Problem) in
            try .single(PayoutRoutes.setup(request, merchant: merchant))
        },
        WriteEndpoint(.post, "/v1/merchants/{accountId}/data-deletion-requests", dryRun: .forwarded) { request, merchant throws(Problem) in
            try .single(PrivacyRoutes.dataDeletion(request, merchant: merchant))
        },
        WriteEndpoint(
            .post, "/v1/privacy-requests", merchant: .unrestrictedKeyOnly(refusal: PrivacyRoutes.restrictedKeyRefusal),
            dryRun: .forwarded, accepted: PrivacyRoutes.logAccepted
        ) { request, _ throws(Problem) in
            try .single(PrivacyRoutes.privacyRequest(request))
        },
    ]
}
