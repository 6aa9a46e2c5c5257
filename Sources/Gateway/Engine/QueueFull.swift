import HTTP

/// The engine holds `maxQueuedOperations` unfinished operations: a new write is refused with
/// 503 `queue_full` and `Retry-After` rather than queued behind work it cannot reach soon.
/// Nothing was stored, so the caller retries the same request (same Idempotency-Key) later.
struct QueueFull: Error, HTTPResponseError, Sendable {
    let limit: Int
    /// Seconds to wait before retrying.
    static let retryAfterSeconds = 5

    var problem: Problem {
        Problem(
            status: 503, code: .queueFull,
            detail: "The gateway already has \(limit) operations waiting for Rokt; retry after \(Self.retryAfterSeconds) s.")
    }

    func response() -> HTTPResponse {
        var headers = HTTPHeaders()
        headers["Retry-After"] = String(Self.retryAfterSeconds)
        return problem.response(headers: headers)
    }
}
