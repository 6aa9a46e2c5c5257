import HTTP
import Synchronization

/// Caller-side `Idempotency-Key`: the same key, caller and request replay the stored answer with
/// `Idempotent-Replayed: true`; another request under the key is 422; the key while the first is
/// still being answered is 409. Records are kept 24 h.
///
/// Once an operation is bound to a key, the key answers with that operation for the rest of the
/// 24 h, whatever happened to the first answer (a 5xx, a store error, a crash): only a key with no
/// operation is ever freed early. A key whose request left no operation and no answer (its
/// process died) is free again when its in-flight lease runs out.
struct InboundIdempotency: Sendable {
    /// Requests this process is running right now, per (API key, Idempotency-Key); a count, because
    /// a request enters before its claim is committed (so no other request can see the claim and
    /// think it abandoned) and a concurrent duplicate enters too, briefly, until it learns it lost.
    final class InFlight: Sendable {
        private let counts = Mutex<[String: Int]>([:])
        func insert(_ apiKeyId: String, _ key: String) { counts.withLock { $0[apiKeyId + "\u{0}" + key, default: 0] += 1 } }
        func remove(_ apiKeyId: String, _ key: String) {
            counts.withLock { counts in
                let id = apiKeyId + "\u{0}" + key
                if let count = counts[id], count > 1 { counts[id] = count - 1 } else { counts[id] = nil }
            }
        }
        func count(_ apiKeyId: String, _ key: String) -> Int { counts.withLock { $0[apiKeyId + "\u{0}" + key] ?? 0 } }
        func contains(_ apiKeyId: String, _ key: String) -> Bool { count(apiKeyId, key) > 0 }
    }

    static let retention: Duration = .seconds(24 * 3600)
    /// How long an in-flight claim without an operation holds its key when no request of this
    /// process is answering it (its process died): then the key may be claimed anew. Longer than
    /// any request that creates no operation runs (a dry run, a webhook endpoint change).
    static let inFlightLease: Duration = .seconds(60)
    let services: GatewayServices

    /// What a handler passes to `OperationEngine.submit` (`inboundKey:`) to bind its operation to
    /// the caller's key in the submit's transaction (so a crash mid-answer replays that operation
    /// instead of creating another).
    typealias Binding = InboundKey

    /// `secret`: how to keep a secret the answer shows out of the store (see `SecretBearingAnswer`).
    func run(
        _ request: HTTPRequest, caller: Caller, secret: (any SecretBearingAnswer)? = nil,
        _ handler: (Binding?) async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        guard let key = request.headers["Idempotency-Key"] else { return try await handler(nil) }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw Problem.validation(field: "Idempotency-Key", "must be 1 to 255 characters")
        }
        let fingerprint = RequestFingerprint(request)
        let apiKeyId = caller.id
        let now = services.clock.nowMillis()
        let inFlight = services.inFlight
        let store = services.inboundRequests
        let binding = InboundKey(apiKeyId: apiKeyId, key: key)
        inFlight.insert(apiKeyId, key)
        let claim: InboundClaim
        do {
            claim = try await store.claim(
                binding, requestHash: fingerprint.hash, now: now, retention: Self.retention.milliseconds,
                lease: Self.inFlightLease.milliseconds, heldElsewhere: { inFlight.count(apiKeyId, key) > 1 })
        } catch {
            inFlight.remove(apiKeyId, key)
            throw error
        }
        if case .existing(let record) = claim {
            inFlight.remove(apiKeyId, key)
            return try await answer(existing: record, fingerprint: fingerprint, request: request, apiKeyId: apiKeyId, key: key, secret: secret)
        }
        defer { inFlight.remove(apiKeyId, key) }
        let response: HTTPResponse
        do {
            response = try await handler(binding)
        } catch let problem as Problem {
            response = problem.response()
        } catch {
            // A key with an operation keeps it (a retry replays it); one without is freed for a retry.
            try? await store.release(binding)
            throw error
        }
        let status = response.status.code
        if status >= 500 && status != 502 && status != 504 {
            // Not an answer to replay: a key without an operation is freed; one with an operation
            // stays in flight, so a retry answers with that operation as it is then.
            try? await store.release(binding)
            return response
        }
        var stored = response
        var secretReference: String?
        if (200..<300).contains(status), let secret, let redacted = secret.redact(response) {
            (stored, secretReference) = (redacted.stored, redacted.reference)
        }
        let headers = stored.headers.fields.filter { Self.replayedHeaders.contains($0.name.lowercased()) }.map { [$0.name, $0.value] }
        let body = stored.bodyBytes
        try await store.complete(binding, answer: InboundAnswer(status: status, headers: headers, body: body, secretReference: secretReference))
        return response
    }

    private func answer(
        existing record: InboundRecord, fingerprint: RequestFingerprint, request: HTTPRequest,
        apiKeyId: String, key: String, secret: (any SecretBearingAnswer)?
    ) async throws -> HTTPResponse {
        guard fingerprint.matches(record.requestHash) else {
            throw Problem(
                status: 422, code: .idempotencyKeyReused,
                detail: "This Idempotency-Key was used for a different request; use a new key for a new request.")
        }
        if record.state == .done {
            var headers = HTTPHeaders(record.headers.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
            headers["Idempotent-Replayed"] = "true"
            var response = HTTPResponse(status: HTTPStatus(code: record.status ?? 200), headers: headers, body: record.body)
            if let reference = record.secretReference {
                guard let secret else { throw Self.secretUnavailable("its secret cannot be shown again") }
                response = try await secret.restore(response, reference: reference)
            }
            return response
        }
        if !services.inFlight.contains(apiKeyId, key), let operationId = record.operationId,
            let operation = try await services.engine.operation(operationId)
        {
            // The first answer was lost (its process died, or the store failed it); the operation is the answer.
            var response = try await WriteResponder(services: services).respond(to: operation, request: request)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        }
        throw Problem(
            status: 409, code: .idempotencyKeyInFlight,
            detail: "A request with this Idempotency-Key is still being processed; retry shortly.")
    }

    /// A replay whose secret is no longer in force: 404, as for the endpoint itself once deleted.
    static func secretUnavailable(_ why: String) -> Problem {
        Problem.notFound("The first answer to this Idempotency-Key showed a secret, and \(why); a secret is shown again only while it is current.")
    }

    static let replayedHeaders: Set<String> = ["content-type", "location", "retry-after", "preference-applied", "etag"]
}

/// An answer that shows a secret (a webhook signing key): stored without it, and completed at
/// replay from the live state, so the store never holds the secret in an answer and a replay
/// never shows a secret that is no longer in force.
protocol SecretBearingAnswer: Sendable {
    /// The answer as stored (the secret removed) and a reference naming what to re-read; nil
    /// when this answer shows no secret.
    func redact(_ response: HTTPResponse) -> (stored: HTTPResponse, reference: String)?
    /// The stored answer with the live secret put back; a problem (404 `not_found`) when the
    /// secret is gone or was replaced.
    func restore(_ stored: HTTPResponse, reference: String) async throws -> HTTPResponse
}

/// What makes two requests "the same request" under one key: method, target, body, and the
/// headers that change what the request means (`If-Match`, `If-None-Match`, `Content-Type`).
/// `Prefer`, `Accept` and the like change only how it is answered, so they are left out: a retry
/// may ask for `respond-async` where the first waited.
struct RequestFingerprint: Sendable {
    static let meaningfulHeaders = ["content-type", "if-match", "if-none-match"]
    let hash: String
    /// The hash versions before the headers counted stored (method, target and body only): a
    /// record holding it was written before an upgrade and still matches. Current hashes start
    /// with a version line, so a current record never equals one.
    private let legacyHash: String

    init(_ request: HTTPRequest) {
        let base = "\(request.method.rawValue) \(request.head.target)\n"
        legacyHash = Digest.sha256Hex(base + request.bodyString)
        var qualifiers = ""
        for name in Self.meaningfulHeaders {
            let values = request.headers.fields.filter { $0.name.lowercased() == name }
                .map { Self.normalised($0.value, caseInsensitive: name == "content-type") }
            if !values.isEmpty { qualifiers += "\(name): \(values.joined(separator: ","))\n" }
        }
        hash = Digest.sha256Hex("v2\n" + base + qualifiers + "\n" + request.bodyString)
    }

    func matches(_ stored: String) -> Bool { stored == hash || stored == legacyHash }

    /// Spacing never changes the meaning of these values; case does only for entity tags.
    private static func normalised(_ value: String, caseInsensitive: Bool) -> String {
        let compact = String(value.filter { $0 != " " && $0 != "\t" })
        return caseInsensitive ? compact.lowercased() : compact
    }
}
