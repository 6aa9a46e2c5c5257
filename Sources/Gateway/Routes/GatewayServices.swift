import HTTP
import Rokt

/// What routes need, built once at start: the engine for operations, and the store only
/// through the narrow protocols a route family uses.
public struct GatewayServices: Sendable {
    public let configuration: GatewayConfiguration
    public let engine: OperationEngine
    /// Caller-side Idempotency-Key records.
    let inboundRequests: any InboundRequestStore
    /// Webhook endpoints and their delivery log (the `/v1/webhook-…` routes).
    let webhookAdmin: any WebhookStore
    /// Whether the store answers, and its gauges (`/readyz`, `/metrics`).
    let storeHealth: any StoreHealth
    public let rokt: RoktClient
    public let keyRing: KeyRing
    /// Bearer tokens that are not keys (AUTH_*); nil: only API and publishable keys are accepted.
    public var tokens: (any TokenAuthenticator)? = nil
    /// Per-caller budgets (RATE_LIMIT_*), held in this process's memory.
    public let callerLimits: CallerRateLimits
    public let logger: Logger
    public let clock: any WallClock
    public let metrics: GatewayMetrics
    /// 64 random bits per call (the engine's source): new trace and span ids.
    let random: @Sendable () -> UInt64
    let inFlight = InboundIdempotency.InFlight()
    /// Whether shutdown has begun (`/readyz`).
    public let drain = DrainState()
}
