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
        // The probe skips `data`: the payload is decoded once, straight into its type, by `decode`.
        let envelope = body.isEmpty ? nil : try? JSONDecoder().decode(EnvelopeProbe.self, from: Data(body))
        if let envelope, envelope.isEnvelope {
            isEnveloped = true
            requestId = envelope.request_id ?? headers["X-Request-Id"]
            errorCode = envelope.error
            message = envelope.message
        } else {
            isEnveloped = false
            requestId = headers["X-Request-Id"]
            errorCode = nil
            message = nil
        }
    }

    /// Decodes the payload; a malformed one is an upstream contract failure, not the caller's fault.
    public func decode<T: Decodable>(_ type: T.Type) throws(RoktError) -> T {
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

/// Just enough of the envelope to recognise it, without decoding `data`.
private struct EnvelopeProbe: Decodable {
    var error: String?
    var message: String?
    var request_id: String?
    var hasDataKey = false

    enum CodingKeys: String, CodingKey { case error, message, request_id, data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        error = try? container.decodeIfPresent(String.self, forKey: .error)
        message = try? container.decodeIfPresent(String.self, forKey: .message)
        request_id = try? container.decodeIfPresent(String.self, forKey: .request_id)
        hasDataKey = container.contains(.data)
    }

    /// An envelope carries `request_id` and `data` (possibly null); a bare body does not.
    var isEnvelope: Bool { request_id != nil && hasDataKey }
}
