import HTTP
import Rokt

/// Sends a committed `PendingWrite` (same bytes, same Idempotency-Key on every attempt) and
/// follows an `X-Operation-Id` by polling, never by re-sending. What each answer means and when
/// to poll is decided by `verdict(of:)` and `PollSchedule`; this performs it.
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
        await context.record(outcome.call, for: write.operationIds)
        switch Self.verdict(of: outcome.result) {
        case .answered(let result):
            return result
        case .follow(let operationId):
            do {
                try await context.setUpstreamOperation(operationId, for: write)
            } catch {
                // Not durable: the next attempt re-sends with the same key, which Rokt replays; still never a duplicate.
                context.report(error, "storing Rokt's operation id failed", operationIds: write.operationIds)
            }
            return await poll(operationId, for: write)
        }
    }

    private func poll(_ operationId: String, for write: PendingWrite) async -> Result {
        let runtime = context.runtime
        let started = runtime.monotonicNow()
        var schedule = PollSchedule(context.configuration)
        while true {
            let outcome = await context.rokt.getOperation(operationId)
            await context.record(outcome.call, for: write.operationIds)
            if let result = Self.verdict(of: outcome.result, operationId: operationId, requestId: outcome.call.requestId) { return result }
            guard let delay = schedule.next(elapsed: runtime.monotonicNow() - started) else { return .stillPending }
            do {
                try await runtime.sleep(delay)
            } catch {
                // Cancelled (shutdown): hand the job back; polling resumes from the stored operation id.
                return .stillPending
            }
        }
    }
}
