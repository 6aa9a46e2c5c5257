import HTTP
import Store
import Synchronization

/// Caller-side `Idempotency-Key` (CONTRACT §3): the same key, caller and request replay the stored
/// answer with `Idempotent-Replayed: true`; another request under the key is 422; the key while the
/// first is still being answered is 409. Records are kept 24 h.
struct InboundIdempotency: Sendable {
    /// Keys this process is answering right now. A stored in-flight record whose key is not here
    /// was left by a process that died mid-answer: its operation is then the answer.
    final class InFlight: Sendable {
        private let keys = Mutex<Set<String>>([])
        func insert(_ apiKeyId: String, _ key: String) { _ = keys.withLock { $0.insert(apiKeyId + "\u{0}" + key) } }
        func remove(_ apiKeyId: String, _ key: String) { _ = keys.withLock { $0.remove(apiKeyId + "\u{0}" + key) } }
        func contains(_ apiKeyId: String, _ key: String) -> Bool { keys.withLock { $0.contains(apiKeyId + "\u{0}" + key) } }
    }

    static let retention: Duration = .seconds(24 * 3600)
    let services: GatewayServices

    /// What a handler needs to bind its operation to the caller's key (so a crash mid-answer
    /// replays that operation instead of creating another).
    struct Binding: Sendable {
        let apiKeyId: String
        let key: String
        func attach(in db: SQLiteConnection, operationId: String) throws {
            try InboundRecords.attachOperation(operationId, apiKeyId: apiKeyId, key: key, in: db)
        }
    }

    func run(_ request: HTTPRequest, caller: Caller, _ handler: (Binding?) async throws -> HTTPResponse) async throws -> HTTPResponse {
        guard let key = request.headers["Idempotency-Key"] else { return try await handler(nil) }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw Problem.validation(field: "Idempotency-Key", "must be 1 to 255 characters")
        }
        let hash = Digest.sha256Hex("\(request.method.rawValue) \(request.head.target)\n" + request.bodyString)
        let apiKeyId = caller.key.id
        let now = services.clock.nowMillis()
        let claim = try await services.database.write { db in
            try InboundRecords.claim(apiKeyId: apiKeyId, key: key, requestHash: hash, now: now,
                                     retention: Self.retention.milliseconds, in: db)
        }
        switch claim {
        case .existing(let record) where record.requestHash != hash:
            throw Problem(status: 422, code: "idempotency_key_reused",
                          detail: "This Idempotency-Key was used for a different request; use a new key for a new request.")
        case .existing(let record) where record.state == .done:
            var headers = HTTPHeaders(record.headers.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
            headers["Idempotent-Replayed"] = "true"
            return HTTPResponse(status: HTTPStatus(code: record.status ?? 200), headers: headers, body: record.body)
        case .existing(let record):
            if !services.inFlight.contains(apiKeyId, key), let operationId = record.operationId,
               let operation = try await services.engine.operation(operationId) {
                // The first answer was lost with its process; the operation it created is the answer.
                var response = try await WriteResponder(services: services).respond(to: operation, request: request)
                response.headers["Idempotent-Replayed"] = "true"
                return response
            }
            throw Problem(status: 409, code: "idempotency_key_in_flight",
                          detail: "A request with this Idempotency-Key is still being processed; retry shortly.")
        case .claimed:
            let binding = Binding(apiKeyId: apiKeyId, key: key)
            services.inFlight.insert(apiKeyId, key)
            defer { services.inFlight.remove(apiKeyId, key) }
            let response: HTTPResponse
            do {
                response = try await handler(binding)
            } catch let problem as Problem {
                response = problem.response()
            } catch {
                // Nothing sensible to replay: free the key for a retry.
                try? await services.database.write { db in try InboundRecords.release(apiKeyId: apiKeyId, key: key, in: db) }
                throw error
            }
            let status = response.status.code
            if status >= 500 && status != 502 && status != 504 {
                try? await services.database.write { db in try InboundRecords.release(apiKeyId: apiKeyId, key: key, in: db) }
                return response
            }
            let headers = response.headers.fields.filter { Self.replayedHeaders.contains($0.name.lowercased()) }.map { [$0.name, $0.value] }
            let body = response.bodyBytes
            try await services.database.write { db in
                try InboundRecords.complete(apiKeyId: apiKeyId, key: key, status: status, headers: headers, body: body, in: db)
            }
            return response
        }
    }

    static let replayedHeaders: Set<String> = ["content-type", "location", "retry-after", "preference-applied", "etag"]
}
