import FoundationEssentials
import HTTP

/// One upstream answer, unwrapped from Rokt's envelope `{status, error, message, request_id, data}`
/// (or taken as a bare body when Rokt sends none).
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
        self.operationId = headers["X-Operation-Id"]
        // Parsed once with our parser; models that take a JSONValue are built from it directly.
        let parsed = body.isEmpty ? nil : try? JSONValue.parse(body)
        if case .object(let members)? = parsed, let id = members["request_id"]?.stringValue, members["data"] != nil {
            isEnveloped = true
            requestId = id
            errorCode = members["error"]?.stringValue
            message = members["message"]?.stringValue
            payload = members["data"]
        } else {
            isEnveloped = false
            requestId = headers["X-Request-Id"]
            errorCode = nil
            message = nil
            payload = parsed
        }
    }

    /// Decodes the payload; a malformed one is an upstream contract failure, not the caller's fault.
    public func decode<T: Decodable>(_ type: T.Type) throws(RoktError) -> T {
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
