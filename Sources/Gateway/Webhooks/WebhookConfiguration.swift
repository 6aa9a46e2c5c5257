/// The webhook subsystem's bounds; each has a documented default and most an environment variable.
public struct WebhookConfiguration: Sendable {
    /// WEBHOOK_RETRY_SCHEDULE.
    public var schedule = WebhookRetrySchedule.default
    /// WEBHOOK_DISABLE_AFTER: an endpoint whose deliveries fail without a success for this long is disabled.
    public var disableAfter: Duration = .seconds(5 * 86_400)
    /// One attempt's budget, connect to last response byte (Standard Webhooks suggests 15 s or less).
    public var timeout: Duration = .seconds(10)
    /// WEBHOOK_MAX_CONCURRENCY: deliveries in flight at once, all endpoints together.
    public var maxConcurrentDeliveries = 64
    /// WEBHOOK_ENDPOINT_CONCURRENCY: deliveries in flight at once to one endpoint.
    public var maxConcurrentPerEndpoint = 4
    /// How long the previous secret keeps signing after a rotation (WEBHOOK_SECRET_GRACE).
    public var secretGracePeriod: Duration = .seconds(24 * 3600)
    /// Bytes of a receiver's answer kept in the delivery log (the rest is cut).
    public var responseSnippetBytes = 1024
    /// Bytes of a receiver's answer read at all; a longer body fails the attempt.
    public var maxResponseBytes = 64 * 1024
    /// Endpoints one gateway holds (a bound on fan-out per event).
    public var maxEndpoints = 100
    /// How long a claimed delivery is ours: longer than an attempt, so that only a dead
    /// process's deliveries are taken over.
    public var lease: Duration = .seconds(60)
    /// The idle dispatcher looks for due retries at least this often.
    public var idlePoll: Duration = .seconds(1)

    public init() {}
}
