import HTTP
import Synchronization

/// What a request's handling learns that its access-log line reports: who it was authenticated
/// as (the key's id, or the user's `sub` and `jti`: never the credential) and the operation it
/// created or read. A task-local, so `Authorization` and
/// the responders note them where they know them, without threading a value through every route.
final class RequestNotes: Sendable {
    private struct Notes {
        var apiKeyId: String?
        var userSubject: String?
        var tokenId: String?
        var operationId: String?
    }
    private let notes = Mutex(Notes())

    @TaskLocal static var current: RequestNotes?

    var apiKeyId: String? { notes.withLock { $0.apiKeyId } }
    var operationId: String? { notes.withLock { $0.operationId } }
    var userSubject: String? { notes.withLock { $0.userSubject } }
    var tokenId: String? { notes.withLock { $0.tokenId } }

    static func noteCaller(_ caller: Caller) {
        current?.notes.withLock { notes in
            notes.apiKeyId = caller.apiKeyId
            if case .user(let user) = caller.credential {
                notes.userSubject = user.subject
                notes.tokenId = user.tokenId
            }
        }
    }
    static func noteOperation(_ id: String) { current?.notes.withLock { $0.operationId = id } }
}

/// One line per request (docs/operations.md, "Logs"): numbers as numbers, never a header's or a
/// body's content, the key's id and never the key.
struct AccessLogEntry: Equatable {
    var requestId: String
    var method: String
    var path: String
    /// The matched route template; nil when nothing matched.
    var route: String?
    var status: Int
    var duration: Duration
    var clientAddress: String?
    var bytesIn: Int
    /// Nil for a streamed body (its length is known only once sent).
    var bytesOut: Int?
    var apiKeyId: String?
    var userSubject: String? = nil
    var tokenId: String? = nil
    var operationId: String?

    var fields: [String: LogValue] {
        var fields: [String: LogValue] = [
            "request_id": .string(requestId), "method": .string(method), "path": .string(path), "route": .string(route ?? "unmatched"),
            "status": .int(status), "duration_ms": .milliseconds(duration), "bytes_in": .int(bytesIn),
        ]
        if let bytesOut { fields["bytes_out"] = .int(bytesOut) }
        if let clientAddress { fields["client_address"] = .string(clientAddress) }
        if let apiKeyId { fields["api_key_id"] = .string(apiKeyId) }
        if let userSubject { fields["user_sub"] = .string(userSubject) }
        if let tokenId { fields["token_id"] = .string(tokenId) }
        if let operationId { fields["operation_id"] = .string(operationId) }
        return fields
    }
}
