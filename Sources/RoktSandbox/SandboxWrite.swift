/// A write, parsed and shape-validated, not yet applied. Applying it (`SandboxWorld.commit`)
/// can still fail on state: a stale contentHash, an unknown layout.
///
/// The same value is applied at once, on a scratch copy for a dry-run, or later when a
/// held-pending operation completes, so all three give the same answer for the same state.
enum SandboxWrite: Sendable {
    case replaceControls(accountId: String, ControlsReplacement)
    case setStatus(accountId: String, VariantStatus)
    case patchLayout(accountId: String, layoutId: String, ThemePatch)
    case createPage(accountId: String, PageRequest)
    case setUpPayout(accountId: String, PayoutSetupRequest)
    case register(parentAccountId: String, Registration)
    case requestNetworkPrivacy(parentAccountId: String, NetworkPrivacyRequest)
    case requestDataDeletion(accountId: String, DataDeletionRequest)

    /// Register and payout setup refuse `?dry_run=true` (400), as the docs' table says:
    /// payout setup creates a Stripe Connect account, which cannot be simulated.
    var supportsDryRun: Bool {
        switch self {
        case .register, .setUpPayout: false
        default: true
        }
    }

    /// The operation's `type`.
    var operationType: String {
        switch self {
        case .replaceControls: "marketplacecontrols.replace"
        case .setStatus: "status.set"
        case .patchLayout: "layout.update"
        case .createPage: "page.create"
        case .setUpPayout: "payout.setup"
        case .register: "account.register"
        case .requestNetworkPrivacy: "network_privacy_request.create"
        case .requestDataDeletion: "data_deletion_request.create"
        }
    }

    /// The managed account it touches (nil for register, resolved at commit, and network privacy).
    var accountId: String? {
        switch self {
        case .replaceControls(let id, _), .setStatus(let id, _), .patchLayout(let id, _, _), .createPage(let id, _),
            .setUpPayout(let id, _), .requestDataDeletion(let id, _):
            id
        case .register, .requestNetworkPrivacy:
            nil
        }
    }
}

/// What a committed write answers: its status (200, or 201 for something created) and data.
struct WriteResult: Sendable {
    var status: Int
    var data: SandboxData
    /// The account the write touched (a registration's new or existing account included).
    var accountId: String?
}
