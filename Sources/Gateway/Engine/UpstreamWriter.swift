import HTTP
import Rokt

/// Sends a committed `PendingWrite` (same bytes, same Idempotency-Key on every attempt) and
/// follows an `X-Operation-Id` by polling, never by re-sending.
struct UpstreamWriter: Sendable {
    enum Result: Sendable {
        /// Done; the response when Rokt answered synchronously (nil after polling).
        case succeeded(RoktResponse?)
        case failed(RoktError)
        /// Rokt is still working on it; the operation id is stored, resume polling later.
        case stillPending
    }

    let context: EngineContext

    func send(_ write: PendingWrite) async -> Result {
        if let operationId = write.upstreamOperationId { return await poll(operationId, for: write) }
        let outcome = await context.rokt.send(HTTPMethod(write.method), write.path, body: write.body, idempotencyKey: write.idempotencyKey)
        try? await context.log(outcome.call, for: write.operationIds)
        switch outcome.result {
        case .failure(let error):
            return .failed(error)
        case .success(let response):
            guard response.status == 202, let operationId = response.operationId else { return .succeeded(response) }
            do {
                try await context.setUpstreamOperation(operationId, for: write)
            } catch {
                // Not durable: the next attempt re-sends with the same key, which Rokt replays; still never a duplicate.
            }
            return await poll(operationId, for: write)
        }
    }

    private func poll(_ operationId: String, for write: PendingWrite) async -> Result {
        let configuration = context.configuration
        let deadline = ContinuousClock.now + configuration.pollBudget
        var interval = configuration.pollInterval
        while true {
            let outcome = await context.rokt.getOperation(operationId)
            try? await context.log(outcome.call, for: write.operationIds)
            switch outcome.result {
            case .success(let operation) where operation.isFinished:
                if operation.isSucceeded { return .succeeded(nil) }
                let message = operation.error?["message"]?.stringValue ?? "Rokt operation \(operationId) ended \(operation.status)"
                return .failed(RoktError(kind: .upstream, status: 422, code: "operation_failed", message: message,
                                         requestId: outcome.call.requestId, retryAfter: nil, mayHaveReachedRokt: true))
            case .success:
                break
            case .failure(let error) where !error.isRetryable:
                return .failed(error)
            case .failure:
                break  // a failed poll is retried like any read
            }
            if ContinuousClock.now + interval > deadline { return .stillPending }
            try? await Task.sleep(for: interval)
            interval = min(interval * 2, configuration.maxPollInterval)
        }
    }
}
