import FoundationEssentials
import HTTP
import JSON

/// A complete response as the core computes it: status, headers and body bytes. Cached
/// verbatim under an Idempotency-Key and replayed byte for byte.
struct SandboxReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The Partnerships envelope of a success:
    /// `{"status":…,"error":null,"message":"ok","request_id":"…","data":…}`. Members are written
    /// in the docs' order; inside `data` they are sorted, so equal states give equal bytes.
    static func success(_ status: Int, data: SandboxData, requestId: String, message: String = "ok") -> SandboxReply {
        var body = envelopeHead(status: status, error: nil, message: message, requestId: requestId)
        if case .controls(let view) = data {
            view.write(to: &body)  // the hottest answer: written directly, same bytes as JSONEncoder's
        } else {
            body += encodeSorted(data)
        }
        body.append(UInt8(ascii: "}"))
        return SandboxReply(status: status, headers: jsonHeaders(requestId: requestId), body: body)
    }

    /// The envelope of a refusal: `status` = HTTP status, `error` = short code, `data` = null.
    static func failure(_ error: SandboxError, requestId: String, headers extra: HTTPHeaders = HTTPHeaders()) -> SandboxReply {
        var body = envelopeHead(status: error.status, error: error.code, message: error.message, requestId: requestId)
        body += Array("null}".utf8)
        var headers = jsonHeaders(requestId: requestId)
        for field in extra { headers.add(name: field.name, value: field.value) }
        return SandboxReply(status: error.status, headers: headers, body: body)
    }

    /// A bare JSON body (the Ecommerce API has no envelope).
    static func bare<T: Encodable>(_ status: Int, _ value: T, requestId: String, headers extra: HTTPHeaders = HTTPHeaders()) -> SandboxReply {
        var headers = jsonHeaders(requestId: requestId)
        for field in extra { headers.add(name: field.name, value: field.value) }
        return SandboxReply(status: status, headers: headers, body: encodeSorted(value))
    }

    static func jsonHeaders(requestId: String) -> HTTPHeaders {
        ["Content-Type": "application/json", "X-Request-Id": requestId]
    }

    private static func envelopeHead(status: Int, error: String?, message: String, requestId: String) -> [UInt8] {
        let errorJSON = error.map(JSONString.escape) ?? "null"
        return Array(#"{"status":\#(status),"error":\#(errorJSON),"message":\#(JSONString.escape(message)),"request_id":\#(JSONString.escape(requestId)),"data":"#.utf8)
    }

    /// Encodes with sorted keys and unescaped slashes. A fresh encoder per call: measured as
    /// fast as a shared one, and it needs no lock of its own.
    static func encodeSorted<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            // Only non-finite doubles can fail, and validation never stores one.
            return Array("null".utf8)
        }
    }
}

/// Request ids: UUID-shaped, unique per response. 64 random bits fixed per sandbox instance,
/// then a counter, so minting one costs no system call.
struct RequestIdSequence: Sendable {
    private let prefix: UInt64
    private var counter: UInt64 = 0

    init(prefix: UInt64) { self.prefix = prefix }

    mutating func next() -> String {
        counter &+= 1
        let a = hex(prefix >> 32, 8), b = hex((prefix >> 16) & 0xFFFF, 4), c = hex(prefix & 0x0FFF | 0x4000, 4)
        let d = hex((counter >> 48) & 0x3FFF | 0x8000, 4), e = hex(counter & 0xFFFF_FFFF_FFFF, 12)
        return "\(a)-\(b)-\(c)-\(d)-\(e)"
    }

    private func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
