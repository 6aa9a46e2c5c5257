/// A refusal the sandbox answers with: the HTTP status, the short code that goes in the
/// envelope's `error` member and the human message that goes in `message`. Every 4xx/5xx the
/// Partnerships surface produces is one of these, rendered by `SandboxReply.failure`.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// A field failed validation; `message` names the field (`blockedVerticals[1].policy …`).
    static func validation(_ message: String) -> SandboxError {
        SandboxError(status: 400, code: "validation_error", message: message)
    }

    static func malformedJSON(_ detail: String) -> SandboxError {
        SandboxError(status: 400, code: "malformed_json", message: "The request body is not valid JSON: \(detail)")
    }

    static func unauthorized(_ message: String) -> SandboxError {
        SandboxError(status: 401, code: "unauthorized", message: message)
    }

    static func forbidden(_ message: String) -> SandboxError {
        SandboxError(status: 403, code: "forbidden", message: message)
    }

    static func notFound(_ message: String) -> SandboxError {
        SandboxError(status: 404, code: "not_found", message: message)
    }

    /// The short code an injected status carries, so a client can tell it from a real one only
    /// by the message ("injected by the sandbox").
    static func injected(status: Int) -> SandboxError {
        let code: String
        switch status {
        case 400: code = "bad_request"
        case 401: code = "unauthorized"
        case 403: code = "forbidden"
        case 404: code = "not_found"
        case 409: code = "conflict"
        case 422: code = "unprocessable_entity"
        case 429: code = "rate_limited"
        case 500: code = "internal_error"
        case 502: code = "bad_gateway"
        case 503: code = "service_unavailable"
        case 504: code = "gateway_timeout"
        default: code = status >= 500 ? "server_error" : "client_error"
        }
        return SandboxError(status: status, code: code, message: "Fault injected by the sandbox (HTTP \(status))")
    }
}
