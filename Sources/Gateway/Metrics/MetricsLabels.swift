import HTTP
import Rokt

/// The `endpoint` label of an upstream call: its method and Rokt path template
/// (`GET /v1/partnership/accounts/{accountId}/marketplacecontrolslists`), never the raw path, so
/// the label set stays bounded whatever ids the calls carry.
enum UpstreamEndpoint {
    /// Every path the Rokt client calls, built by `RoktPath` itself so a renamed path is followed;
    /// the ids are placeholders made of unreserved characters, which encoding leaves alone.
    static let templates: [[Substring]] = {
        let (account, layout, operation) = ("_accountId_", "_layoutId_", "_operationId_")
        let paths = [
            RoktPath.register, RoktPath.accounts, RoktPath.privacyRequests, RoktPath.account(account),
            RoktPath.controls(account), RoktPath.status(account), RoktPath.layout(account, layout), RoktPath.pages(account),
            RoktPath.payoutSetup(account), RoktPath.dataDeletion(account), RoktPath.operation(operation),
            "/v1/Placements/any",
        ]
        return paths.map { path in
            path.replacing(account, with: "{accountId}").replacing(layout, with: "{layoutId}").replacing(operation, with: "{operationId}")
                .split(separator: "/", omittingEmptySubsequences: false)
        }
    }()

    /// `METHOD /template`; `other` for a path no template matches (the client calls none such).
    static func label(method: String, path: String) -> String {
        let bare = path.firstIndex(of: "?").map { path[..<$0] } ?? Substring(path)
        let segments = bare.split(separator: "/", omittingEmptySubsequences: false)
        let template = templates.first { template in
            template.count == segments.count
                && zip(template, segments).allSatisfy { pattern, segment in
                    pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
                }
        }
        guard let template else { return "other" }
        return GatewayMetrics.methodLabel(HTTPMethod(method)) + " " + template.joined(separator: "/")
    }
}

/// `status_class` of an answer: `2xx` … `5xx`, or `error` when none came.
enum StatusClass {
    static func label(_ status: Int?) -> String {
        guard let status else { return "error" }
        return "\(min(max(status / 100, 1), 5))xx"
    }
}

/// What a `POST /v1/placements/any` ended as, under either `PLACEMENTS_ON_ERROR` policy.
enum PlacementsOutcome: String, CaseIterable, Sendable {
    /// Rokt answered a result.
    case ok
    /// Rokt failed (not the budget) and `PLACEMENTS_ON_ERROR=skip` answered `{degraded: true}`.
    case degraded
    /// The budget ran out, whatever the policy then answered (`{degraded: true}` or 504).
    case timeout
    /// Rokt failed (not the budget) and `PLACEMENTS_ON_ERROR=error` answered 502.
    case error
}

/// One webhook delivery attempt's outcome, as the dispatcher can tell them apart.
enum WebhookAttemptOutcome: String, CaseIterable, Sendable {
    /// A 2xx answer.
    case delivered
    /// 410 Gone: the endpoint is disabled.
    case gone
    /// Any other answer (3xx included: redirects are not followed).
    case rejected
    /// No answer (or no connection) within the attempt's timeout.
    case timeout
    /// The host resolved to an address the SSRF guard refuses: nothing was sent.
    case refused
    /// No answer for another reason: DNS, connection, TLS, a malformed or oversized answer.
    case error

    init(status: Int?, failure: HTTPClientError.Kind?) {
        switch (status, failure) {
        case (.some(let status), _) where (200...299).contains(status): self = .delivered
        case (.some(410), _): self = .gone
        case (.some, _): self = .rejected
        case (nil, .timedOut?), (nil, .connectTimeout?), (nil, .poolTimeout?): self = .timeout
        case (nil, .addressRefused?): self = .refused
        case (nil, _): self = .error
        }
    }
}

/// What a retention sweep deletes, as `kind` labels (docs/operations.md "Retention").
enum RetentionKind: String, CaseIterable, Sendable {
    case inboundRequests = "inbound_requests", operations, webhookDeliveries = "webhook_deliveries"
    case webhookEvents = "webhook_events", jobs

    func count(in report: RetentionReport) -> Int {
        switch self {
        case .inboundRequests: report.inboundRequests
        case .operations: report.operations
        case .webhookDeliveries: report.webhookDeliveries
        case .webhookEvents: report.webhookEvents
        case .jobs: report.jobs
        }
    }
}
