import FoundationEssentials
import HTTP
import Synchronization

/// The sandbox's state behind its one lock, and the path of every request through it.
///
/// Guarantees: every request sees and changes the state atomically (one `Mutex`, held only
/// for synchronous, allocation-light work: no I/O, no awaiting); injected latency sleeps
/// between the two short critical sections with `Task.sleep`, so no thread is blocked.
final class SandboxEngine: Sendable {
    let state: Mutex<SandboxState>
    let clock: any SandboxClock

    init(state: SandboxState, clock: any SandboxClock) {
        self.state = Mutex(state)
        self.clock = clock
    }

    /// Runs one non-admin request: faults, auth, idempotency, the endpoint, the log.
    /// Throws only `ConnectionAbort` (a drop fault).
    func serve(_ request: HTTPRequest, endpoint: SandboxEndpoint) async throws -> HTTPResponse {
        let call = SandboxCall(
            endpoint: endpoint, method: request.method.rawValue, path: request.path, pathParameters: request.pathParameters,
            query: request.query, headers: request.headers, body: request.body)
        let admission = state.withLock { $0.admit(call) }
        if admission.delayMilliseconds > 0 {
            try? await Task.sleep(for: .milliseconds(admission.delayMilliseconds))
        }
        let reading = clock.now
        let (outcome, shapes) = state.withLock { ($0.complete(call, admission: admission, clockReading: reading), $0.shapes) }
        guard case .respond(var reply) = outcome else { throw ConnectionAbort() }
        // Shaped on the way out (outside the lock): replays follow the shapes in force too.
        if !shapes.isStandard { reply = shapes.reshape(reply, endpoint: endpoint) }
        return HTTPResponse(status: HTTPStatus(code: reply.status), headers: reply.headers, body: reply.body)
    }

    /// The sandbox's notion of now: the injected clock plus any admin advance.
    var now: Date {
        let reading = clock.now
        return state.withLock { $0.now(reading) }
    }
}
