/// What one delivery attempt's outcome does to the delivery and to its endpoint's health: a
/// pure function of the outcome, the attempts made, the endpoint's failing streak and the clock.
///
/// - any 2xx: `delivered`; the endpoint's failing streak ends.
/// - 410 Gone: `failed`, and the endpoint is disabled (the receiver said it is gone for good).
/// - anything else (other statuses, 3xx included since redirects are not followed, timeouts,
///   refused addresses, connection errors): retried on the schedule, `failed` once it is used
///   up; an endpoint whose failures have not been interrupted by a success for `disableAfter`
///   is disabled.
struct DeliveryDecision: Sendable, Equatable {
    enum State: String, Sendable { case pending, delivered, failed }

    var state: State
    /// When the next attempt is due (`pending` only).
    var nextAttemptAt: Int64?
    /// The endpoint's failing streak after this attempt: nil when it is healthy.
    var failingSince: Int64?
    /// Set when this attempt disables the endpoint.
    var disableReason: String?

    static func decide(
        status: Int?, attempts: Int, now: Int64, failingSince: Int64?, schedule: WebhookRetrySchedule,
        disableAfter: Duration, using random: inout some RandomNumberGenerator
    ) -> DeliveryDecision {
        if let status, (200...299).contains(status) {
            return DeliveryDecision(state: .delivered, nextAttemptAt: nil, failingSince: nil, disableReason: nil)
        }
        let streak = failingSince ?? now
        if status == 410 {
            return DeliveryDecision(
                state: .failed, nextAttemptAt: nil, failingSince: streak,
                disableReason: "the endpoint answered 410 Gone")
        }
        let next = schedule.delay(afterAttempts: attempts, using: &random).map { now + $0.milliseconds }
        let disable =
            now - streak >= disableAfter.milliseconds
            ? "every delivery failed for \(disableAfter.milliseconds / 1000) s (since \(Timestamp.format(streak)))" : nil
        return DeliveryDecision(state: next == nil ? .failed : .pending, nextAttemptAt: next, failingSince: streak, disableReason: disable)
    }
}
