/// How a round's run ends, as the round decides it. The delay before a retry is named, not
/// drawn: the shell draws the jitter from the engine's injected random source.
enum RunEnd: Sendable, Equatable {
    /// Nothing is left to do (new work may have arrived meanwhile: the release checks).
    case idle
    case retry(RetryDelay)
}

enum RetryDelay: Sendable, Equatable {
    /// `RetryPolicy`'s backoff after failed attempt `attempt`, never sooner than Rokt's `Retry-After`.
    case backoff(attempt: Int, retryAfter: Duration?)
    /// Exactly this long: Rokt is still running the write, poll it again then.
    case exactly(Duration)
}

extension RetryDelay {
    /// How long this is under `policy`, the jitter drawn from `random`.
    func duration<R: RandomNumberGenerator>(under policy: RetryPolicy, using random: inout R) -> Duration {
        switch self {
        case .exactly(let duration): duration
        case .backoff(let attempt, let retryAfter): policy.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &random)
        }
    }
}

/// A run's store access or a stored plan failed: the job comes back after a backoff (its pending
/// write, if any, keeps its key).
func runFailed(attempts: Int) -> RunEnd { .retry(.backoff(attempt: attempts + 1, retryAfter: nil)) }
