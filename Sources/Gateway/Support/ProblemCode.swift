/// Every `code` a gateway problem document can carry: callers switch on it, and
/// openapi/gateway.yaml lists each one under `Problem.code`.
public enum ProblemCode: String, CaseIterable, Sendable {
    // The request itself
    case validationFailed = "validation_failed"
    case internalError = "internal_error"
    case emptyBody = "empty_body"
    case invalidJSON = "invalid_json"
    case unsupportedMediaType = "unsupported_media_type"
    case dryRunNotSupported = "dry_run_not_supported"
    case unauthenticated
    case forbidden
    case notFound = "not_found"
    case staleContentHash = "stale_content_hash"
    case idempotencyKeyReused = "idempotency_key_reused"
    case idempotencyKeyInFlight = "idempotency_key_in_flight"
    // How an operation ended
    case conflictRetriesExhausted = "conflict_retries_exhausted"
    case cascadeIncomplete = "cascade_incomplete"
    case operationFailed = "operation_failed"
    case outcomeUnknown = "outcome_unknown"
    // Rokt's answers
    case upstreamRejected = "upstream_rejected"
    case upstreamUnauthorized = "upstream_unauthorized"
    case upstreamNotFound = "upstream_not_found"
    case merchantNotManaged = "merchant_not_managed"
    case upstreamConflict = "upstream_conflict"
    case upstreamRateLimited = "upstream_rate_limited"
    case upstreamError = "upstream_error"
    case upstreamMalformedResponse = "upstream_malformed_response"
    case upstreamUnreachable = "upstream_unreachable"
    case upstreamUnavailable = "upstream_unavailable"
    // The gateway's own limits and state
    case queueFull = "queue_full"
    case rateLimited = "rate_limited"
    case placementsTimeout = "placements_timeout"
    case corsOriginNotAllowed = "cors_origin_not_allowed"
    case notReady = "not_ready"
    // Webhook endpoints
    case webhookURLForbidden = "webhook_url_forbidden"
    case webhookURLUnresolvable = "webhook_url_unresolvable"
    case webhookEndpointLimit = "webhook_endpoint_limit"
    case webhookEndpointDisabled = "webhook_endpoint_disabled"
}
