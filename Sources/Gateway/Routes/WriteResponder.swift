import HTTP

/// Turns a submitted operation into its answer: 200 when it finished within
/// the wait, the problem (with `operationId`) when it failed, 202 + `Location` while it runs.
struct WriteResponder: Sendable {
    let services: GatewayServices

    /// `Prefer: respond-async` answers at once; `Prefer: wait=N` waits N seconds (RFC 7240 §4.1, §4.3).
    func wait(for request: HTTPRequest) -> (wait: Duration, applied: String?) {
        let preferences = request.headers.listValues("Prefer").map { $0.lowercased().replacingSpaces() }
        if preferences.contains("respond-async") { return (.zero, "respond-async") }
        let longest = services.configuration.longestWait
        if let wait = preferences.first(where: { $0.hasPrefix("wait=") }), let seconds = Int(wait.dropFirst(5)), seconds >= 0 {
            let applied = min(seconds, Int(longest.components.seconds))
            return (.seconds(applied), "wait=\(applied)")
        }
        return (services.configuration.syncWait, nil)
    }

    func respond(to operation: Operation, request: HTTPRequest, createdStatus: Bool = false) async throws -> HTTPResponse {
        RequestNotes.noteOperation(operation.id)
        let (wait, applied) = wait(for: request)
        // respond-async: the operation as committed is the answer; no read needed.
        let current = wait > .zero ? try await services.engine.wait(for: operation.id, timeout: wait) ?? operation : operation
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        if let applied { headers["Preference-Applied"] = applied }
        switch current.state {
        case .succeeded:
            return HTTPResponse(status: createdStatus && current.changed == true ? .created : .ok, headers: headers, body: current.encoded)
        case .failed:
            var problem = current.error ?? Problem(status: 500, code: .operationFailed, detail: "The operation failed.")
            problem.operationId = current.id
            return problem.response(headers: ["Location": "/v1/operations/\(current.id)"])
        case .queued, .running:
            headers["Location"] = "/v1/operations/\(current.id)"
            headers["Retry-After"] = "1"
            return HTTPResponse(status: .accepted, headers: headers, body: current.encoded)
        }
    }
}

extension String {
    fileprivate func replacingSpaces() -> String { String(filter { $0 != " " && $0 != "\t" }) }
}
