import FoundationEssentials
import HTTP
import JSON

/// One upstream answer, unwrapped from Rokt's envelope `{status, error, message, request_id, data}`
/// (or taken as a bare body when Rokt sends none). The request id comes from the envelope
/// (`request_id` or `requestId`) or else the `X-Request-Id` header; the operation id of a 202
/// from `X-Operation-Id` or else the payload's `operationId`.
public struct RoktResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var requestId: String?
    /// `X-Operation-Id`: the write may still be running; poll it, never re-send.
    public var operationId: String?
    /// The envelope's `error` code and `message`, on failures.
    public var errorCode: String?
    public var message: String?
    /// The raw body; the payload is the envelope's `data`, or the whole body when it is bare.
    public var body: [UInt8]
    let isEnveloped: Bool
    /// The parsed payload (the envelope's `data`, or the bare body); nil when the body is not JSON.
    let payload: JSONValue?

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// `Retry-After` in seconds (RFC 9110 §10.2.3); HTTP-dates are treated as "soon".
    public var retryAfter: Duration? {
        guard let raw = headers["Retry-After"] else { return nil }
        if let seconds = Int(raw.trimmingHTTPWhitespace()), seconds >= 0 { return .seconds(min(seconds, 3600)) }
        return .seconds(1)
    }

    init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
        // Parsed once with our parser; models that take a JSONValue are built from it directly.
        let parsed = body.isEmpty ? nil : try? JSONValue.parse(body)
        let header = headers["X-Request-Id"].flatMap { $0.isEmpty ? nil : $0 }
        let members = parsed?.objectValue
        isEnveloped = members.map(Self.isEnvelope) ?? false
        payload = isEnveloped ? members?["data"] ?? .null : parsed
        // An envelope, or a refusal without one, names its code, message and request id when it has them.
        let described = isEnveloped || !(200..<300).contains(status) ? members : nil
        requestId = described?.member(anyOf: ["request_id", "requestId"])?.idValue ?? header
        errorCode = described.flatMap(Self.errorCode)
        message = described.flatMap { $0["message"]?.stringValue ?? $0["error"]?["message"]?.stringValue }
        operationId =
            headers["X-Operation-Id"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (status == 202 ? payload?.objectValue?.member("operationId")?.idValue : nil)
    }

    /// The envelope is told from a bare body by its members: `data` with `request_id`, or `data`
    /// with a numeric `status` and a `message` or `error` (some answers carry the id only in a
    /// header). A bare page `{data: […], cursor}` has neither.
    static func isEnvelope(_ members: [String: JSONValue]) -> Bool {
        guard members.keys.contains("data") else { return false }
        if members["request_id"] != nil || members["requestId"] != nil { return true }
        guard members["status"]?.doubleValue != nil else { return false }
        return members.keys.contains("message") || members.keys.contains("error")
    }

    /// `error` as a code string, or `{code}` inside it, or a top-level `code`.
    static func errorCode(_ members: [String: JSONValue]) -> String? {
        members["error"]?.stringValue ?? members["error"]?["code"]?.stringValue ?? members["code"]?.stringValue
    }

    /// Decodes the payload; a malformed one is an upstream contract failure, not the caller's fault.
    public func decode<T: Decodable>(_ type: T.Type) throws(RoktError) -> T {
        if T.self == JSONValue.self {
            guard let payload, !(isEnveloped && payload == .null) else {
                throw RoktError.malformedResponse("JSONValue: \(isEnveloped ? "the envelope's data is null" : "the body is not JSON")", requestId: requestId)
            }
            return payload as! T
        }
        if let model = T.self as? any JSONValueRepresentable.Type {
            guard let payload, payload != .null else {
                throw RoktError.malformedResponse("\(T.self): \(isEnveloped ? "the envelope's data is null" : "the body is not JSON")", requestId: requestId)
            }
            do {
                return try model.init(json: payload) as! T
            } catch {
                throw RoktError.malformedResponse("\(T.self): \(error)", requestId: requestId)
            }
        }
        do {
            if isEnveloped {
                guard let data = try JSONDecoder().decode(EnvelopeData<T>.self, from: Data(body)).data else {
                    throw RoktError.malformedResponse("\(T.self): the envelope's data is null", requestId: requestId)
                }
                return data
            }
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as RoktError {
            throw error
        } catch {
            throw RoktError.malformedResponse("\(T.self): \(error)", requestId: requestId)
        }
    }
}

private struct EnvelopeData<T: Decodable>: Decodable {
    var data: T?
}
