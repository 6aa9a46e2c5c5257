/// The events the gateway sends to partner endpoints (docs/webhooks.md). Payloads are documented in
/// the `webhooks` section of openapi/gateway.yaml.
public enum WebhookEventType: String, CaseIterable, Sendable, Codable {
    case operationSucceeded = "operation.succeeded"
    case operationFailed = "operation.failed"
    case merchantRegistered = "merchant.registered"
    case merchantStatusChanged = "merchant.status_changed"
    case merchantCascadeIncomplete = "merchant.cascade_incomplete"
    case controlsChanged = "controls.changed"

    /// Every type's name, in declaration order (for error messages and docs).
    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
