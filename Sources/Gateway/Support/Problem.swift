import FoundationEssentials
import HTTP
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

    public init(status: Int, code: String, detail: String, title: String? = nil, errors: [FieldError]? = nil,
                upstream: Upstream? = nil, context: JSONValue? = nil) {
        self.type = "urn:rokt-gateway:problem:" + code
        self.title = title ?? HTTPStatus.standardReasonPhrase(status)
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = errors
        self.upstream = upstream
        self.context = context
    }

    public init(status: Int, code: ProblemCode, detail: String, title: String? = nil, errors: [FieldError]? = nil,
                upstream: Upstream? = nil, context: JSONValue? = nil) {
        self.init(status: status, code: code.rawValue, detail: detail, title: title, errors: errors, upstream: upstream, context: context)
    }

    public func response() -> HTTPResponse { response(headers: HTTPHeaders()) }

    public func response(headers: HTTPHeaders) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "application/problem+json"
        return HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: JSON.encode(self))
    }

    // MARK: The catalogue of codes

    public static func validation(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(status: 400, code: "validation_failed",
                detail: detail ?? errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    public static func validation(field: String, _ message: String) -> Problem { validation([FieldError(field: field, message: message)]) }

    public static func badRequest(_ code: String, _ detail: String) -> Problem { Problem(status: 400, code: code, detail: detail) }
    public static let unauthenticated = Problem(status: 401, code: "unauthenticated", detail: "Send a valid API key as `Authorization: Bearer <key>`.")
    public static func forbidden(_ detail: String) -> Problem { Problem(status: 403, code: "forbidden", detail: detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(status: 404, code: "not_found", detail: detail) }

    /// Rokt refused or failed: its status, message and request_id travel with the problem.
    public static func upstream(_ error: RoktError) -> Problem {
        let status: Int
        let code: String
        switch error.kind {
        case .transport:
            status = 504
            code = "upstream_unreachable"
        case .malformedResponse:
            status = 502
            code = "upstream_malformed_response"
        case .upstream:
            switch error.status ?? 502 {
            case 400, 422: status = error.status!; code = "upstream_rejected"
            case 401: status = 502; code = "upstream_unauthorized"  // our credentials, not the caller's fault
            // Rokt's "relationship 403": the account is not one the manager account manages, which
            // for our caller is a merchant that does not exist (partnerships-dry-run.txt).
            case 403: status = 404; code = "merchant_not_managed"
            case 404: status = 404; code = "upstream_not_found"
            case 409: status = 409; code = "upstream_conflict"
            case 429: status = 503; code = "upstream_rate_limited"
            default: status = 502; code = "upstream_error"
            }
        }
        return Problem(status: status, code: code, detail: "Rokt: \(error.message)",
                       upstream: Upstream(status: error.status, requestId: error.requestId, message: error.kind == .transport ? nil : error.message))
    }
}

extension HTTPResponse {
    /// A JSON answer: the value's compact bytes (sorted keys) with its content type.
    static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "application/json"
        var body: [UInt8] = []
        body.reserveCapacity(256)
        value.write(to: &body)
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}

/// JSON for the gateway's own documents: camelCase, sorted keys (stable bytes for replays and tests).
public enum JSON {
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Our own writer for JSON values and the hot-path models (sorted keys as well).
        if let model = value as? any JSONValueRepresentable { return bytes(of: model.jsonValue) }
        if let json = value as? JSONValue { return bytes(of: json) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch { return Array(#"{"error":"unencodable"}"#.utf8) }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if T.self == JSONValue.self { return try JSONValue.parse(bytes) as! T }
        if let model = T.self as? any JSONValueRepresentable.Type { return try model.init(json: JSONValue.parse(bytes)) as! T }
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    private static func bytes(of json: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        json.write(to: &out)
        return out
    }
}
