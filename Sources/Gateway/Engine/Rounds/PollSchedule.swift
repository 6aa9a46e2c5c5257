import Rokt

/// Following an `X-Operation-Id`: when to poll again and when to hand the job back, computed
/// from the time spent polling so far (the shell measures it and sleeps). Intervals double from
/// `pollInterval` up to `maxPollInterval`; a job run polls for at most `pollBudget`.
struct PollSchedule: Sendable, Equatable {
    private(set) var interval: Duration
    let maxInterval: Duration
    let budget: Duration

    init(_ configuration: EngineConfiguration) {
        interval = configuration.pollInterval
        maxInterval = configuration.maxPollInterval
        budget = configuration.pollBudget
    }

    /// Rokt's operation is unfinished `elapsed` after polling began: the delay before the next
    /// poll, or nil when that poll would land past the budget (the job resumes polling later).
    mutating func next(elapsed: Duration) -> Duration? {
        if elapsed + interval > budget { return nil }
        defer { interval = min(interval * 2, maxInterval) }
        return interval
    }
}

extension UpstreamWriter {
    /// What Rokt's answer to the write means: done, or an operation id to follow by polling.
    enum SendVerdict: Sendable {
        case answered(Result)
        case follow(operationId: String)
    }

    static func verdict(of sent: Swift.Result<RoktResponse, RoktError>) -> SendVerdict {
        switch sent {
        case .failure(let error):
            return .answered(.failed(error))
        case .success(let response):
            guard response.status == 202, let operationId = response.operationId else { return .answered(.succeeded(response)) }
            return .follow(operationId: operationId)
        }
    }

    /// What one poll of Rokt's operation means: the write's answer, or nil to poll again
    /// (still running, or a poll that failed retryably, retried like any read).
    static func verdict(of polled: Swift.Result<RoktOperation, RoktError>, operationId: String, requestId: String?) -> Result? {
        switch polled {
        case .success(let operation) where operation.isFinished:
            if operation.isSucceeded { return .succeeded(nil) }
            let message = operation.error?["message"]?.stringValue ?? "Rokt operation \(operationId) ended \(operation.status)"
            return .failed(
                RoktError(
                    kind: .upstream, status: 422, code: ProblemCode.operationFailed.rawValue, message: message,
                    requestId: requestId, retryAfter: nil, mayHaveReachedRokt: true))
        case .success:
            return nil
        case .failure(let error) where !error.isRetryable:
            return .failed(error)
        case .failure:
            return nil
        }
    }
}
