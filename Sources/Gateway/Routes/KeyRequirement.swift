import HTTP

/// The credential check of a route, known from the method and the matched template alone:
/// `GatewayRouter.handle` makes it once per request (`Authorization`) before the handler runs,
/// and `GatewayRouter.screen` from the head, so a refused request's body is never read; the
/// screen only answers earlier, never differently.
struct KeyRequirement: Equatable, Sendable {
    let scope: Scope
    /// The path parameter naming the merchant the key must be allowed on.
    let merchantParameter: String?

    /// nil for routes without a key: the probes, `/metrics`, the served spec.
    static func of(method: HTTPMethod, template: String) -> KeyRequirement? {
        guard template.hasPrefix("/v1/") else { return nil }
        if template.hasPrefix("/v1/webhook-") { return KeyRequirement(scope: .webhooks, merchantParameter: nil) }
        // Placements changes nothing, so it needs only `read` although it is a POST.
        let reads = method == .get || method == .head || template == "/v1/placements/any"
        return KeyRequirement(scope: reads ? .read : .write, merchantParameter: template.contains("{accountId}") ? "accountId" : nil)
    }
}
