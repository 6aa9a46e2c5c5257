import HTTP

/// Which sandbox endpoint a request reached (the shell's router decides).
enum SandboxEndpoint: Sendable, Equatable {
    case listAccounts, register
    case getControls, putControls
    case getStatus, putStatus
    case patchLayout, createPage, payoutSetup
    case requestDataDeletion, requestNetworkPrivacy
    case getOperation
    case placementsAny
    /// No route has this path.
    case notFound
    /// Routes have this path, but not with this method.
    case methodNotAllowed(allowed: [String])
    /// The path cannot be routed (a malformed percent-escape).
    case badPath(String)

    /// Needs an Idempotency-Key, creates an operation, may be dry-run.
    var isWrite: Bool {
        switch self {
        case .register, .putControls, .putStatus, .patchLayout, .createPage, .payoutSetup, .requestDataDeletion, .requestNetworkPrivacy:
            true
        default:
            false
        }
    }

    /// `?dry_run=true` is refused with a 400 on these (docs: "Dry-run? No").
    var refusesDryRun: Bool { self == .register || self == .payoutSetup }
}

/// One request as the core sees it: the endpoint the router found and the request's parts.
/// Building one by hand is how the core is tested without sockets.
struct SandboxCall: Sendable {
    var endpoint: SandboxEndpoint
    var method: String
    /// As sent, still percent-encoded, without the query.
    var path: String
    /// Decoded path parameters: `account_id`, `layout_id`, `operation_id`.
    var pathParameters: [String: String]
    var query: [String: String]
    var headers: HTTPHeaders
    var body: [UInt8]

    init(
        endpoint: SandboxEndpoint, method: String, path: String, pathParameters: [String: String] = [:],
        query: [String: String] = [:], headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.endpoint = endpoint
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The Ecommerce API answers in its own error shape, not in the Partnerships envelope.
    var isEcommerce: Bool { endpoint == .placementsAny || path.hasPrefix("/v1/Placements/") }
}

/// What happens to the connection after the core has run.
enum SandboxOutcome: Sendable {
    case respond(SandboxReply)
    /// Close the connection without a response.
    case drop

    var reply: SandboxReply? {
        if case .respond(let reply) = self { return reply }
        return nil
    }
}
