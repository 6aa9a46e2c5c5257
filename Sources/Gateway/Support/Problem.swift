import HTTP
import JSON
import Rokt

/// An RFC 9457 problem document, the gateway's one error shape:
/// `{type, title, status, detail, code, operationId?, upstream?, errors?}`.
/// Thrown by routes, it renders itself (`HTTPResponseError`); stored on failed operations.
public struct Problem: Error, Codable, Sendable, Equatable, HTTPResponseError {
    public struct Upstream: Codable, Sendable, Equatable {
        public var status: Int?
        public var requestId: String?
        public var message: String?
    }

    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// Stable, machine-readable: callers switch on it.
    public var code: String
    public var operationId: String?
    public var upstream: Upstream?
    public var errors: [FieldError]?
    /// Extra context some codes carry (stuck variants, keys, request ids…).
    public var context: JSONValue?
    /// Sent as `Retry-After` (whole seconds) with the answer; not part of the document.
    public var retryAfterSeconds: Int?

    private enum CodingKeys: String, CodingKey {
        case type, title, status, detail, code, operationId, upstream, errors, context
    }

    /// Every code is a `ProblemCode` (so the spec's list cannot drift from the code); the stored
    /// `code` stays a string so a document written by another version still decodes.
    private init(
        status: Int, code: String, detail: String, title: String? = nil, errors: [FieldError]? = nil,
        upstream: Upstream? = nil, context: JSONValue? = nil
    ) {
        self.type = "urn:rokt-gateway:problem:" + code
        self.title = title ?? HTTPStatus.standardReasonPhrase(status)
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = errors
        self.upstream = upstream
        self.context = context
    }

    public init(
        status: Int, code: ProblemCode, detail: String, title: String? = nil, errors: [FieldError]? = nil,
        upstream: Upstream? = nil, context: JSONValue? = nil
    ) {
        self.init(status: status, code: code.rawValue, detail: detail, title: title, errors: errors, upstream: upstream, context: context)
    }

    public func response() -> HTTPResponse { response(headers: HTTPHeaders()) }

    public func response(headers: HTTPHeaders) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "application/problem+json"
        if let retryAfterSeconds, headers["Retry-After"] == nil { headers["Retry-After"] = String(retryAfterSeconds) }
        return HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: JSON.encode(self))
    }

    // MARK: The catalogue of codes

    public static func validation(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(
            status: 400, code: .validationFailed,
            detail: detail ?? errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    public static func validation(field: String, _ message: String) -> Problem { validation([FieldError(field: field, message: message)]) }

    public static func badRequest(_ code: ProblemCode, _ detail: String) -> Problem { Problem(status: 400, code: code, detail: detail) }
    public static func forbidden(_ detail: String) -> Problem { Problem(status: 403, code: .forbidden, detail: detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(status: 404, code: .notFound, detail: detail) }

    /// Rokt refused or failed: its status, message and request_id travel with the problem.
    public static func upstream(_ error: RoktError) -> Problem {
        let status: Int
        let code: ProblemCode
        switch error.kind {
        case .notSent:
            // Held back to protect Rokt (circuit open, Rokt's pause, the outbound limiter): fast, and retryable.
            var problem = Problem(status: 503, code: .upstreamUnavailable, detail: "Not sent to Rokt: \(error.message); retry later.")
            problem.retryAfterSeconds = wholeSeconds(error.retryAfter)
            return problem
        case .transport:
            status = 504
            code = .upstreamUnreachable
        case .malformedResponse:
            status = 502
            code = .upstreamMalformedResponse
        case .upstream:
            switch error.status ?? 502 {
            case 400, 422: status = error.status!; code = .upstreamRejected
            case 401: status = 502; code = .upstreamUnauthorized  // our credentials, not the caller's fault
            // Rokt's "relationship 403": the account is not one the manager account manages, which
            // for our caller is a merchant that does not exist (partnerships-dry-run.txt).
            case 403: status = 404; code = .merchantNotManaged
            case 404: status = 404; code = .upstreamNotFound
            case 409: status = 409; code = .upstreamConflict
            case 429: status = 503; code = .upstreamRateLimited
            default: status = 502; code = .upstreamError
            }
        }
        var problem = Problem(
            status: status, code: code, detail: "Rokt: \(error.message)",
            upstream: Upstream(status: error.status, requestId: error.requestId, message: error.kind == .transport ? nil : error.message))
        // Rokt's own Retry-After on a 429 is passed on: every call waits that long anyway (README "Protecting Rokt").
        if code == .upstreamRateLimited { problem.retryAfterSeconds = wholeSeconds(error.retryAfter) }
        return problem
    }

    /// A `Retry-After` value: whole seconds, rounded up, at least 1.
    private static func wholeSeconds(_ duration: Duration?) -> Int {
        duration.map { max(1, Int(($0.milliseconds + 999) / 1000)) } ?? 1
    }
}
