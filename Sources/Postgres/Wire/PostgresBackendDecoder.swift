/// Cuts the server's byte stream into messages, however it was split into reads.
///
/// The connection appends each read and then takes messages with `next()` until it returns
/// nil; an incomplete message stays buffered for the next read. Every message is Byte1 type,
/// Int32 length (counting itself), payload (protocol-message-formats). The type and length are
/// checked as soon as they arrive, so an unknown type or a length below 4, above
/// `maximumMessageLength` or wrong for a fixed-size message is refused before any payload is
/// awaited. After an error the decoder stays failed: the stream is out of step for good.
public struct PostgresBackendDecoder: Sendable {
    /// Large enough for any row this gateway stores; a server may send up to 1 GB per field, so
    /// this bounds what a broken or hostile server makes us buffer.
    public static let defaultMaximumMessageLength = 64 << 20

    public let maximumMessageLength: Int
    private var buffer: [UInt8] = []
    /// Where the first unconsumed byte is; the consumed prefix is dropped in bulk, not per message.
    private var start = 0
    private var failure: PostgresProtocolError?

    public init(maximumMessageLength: Int = defaultMaximumMessageLength) {
        self.maximumMessageLength = maximumMessageLength
    }

    /// Bytes received and not yet returned as messages.
    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeSubrange(..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil until more bytes are appended.
    public mutating func next() throws(PostgresProtocolError) -> PostgresBackendMessage? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func decodeNext() throws(PostgresProtocolError) -> PostgresBackendMessage? {
        let available = buffer.count - start
        guard available >= 1 else { return nil }
        let type = buffer[start]
        guard PostgresBackendMessage.isKnownType(type) else { throw .unknownMessageType(type) }
        guard available >= 5 else { return nil }
        var length: Int32 = 0
        for i in 1...4 { length = length << 8 | Int32(buffer[start + i]) }
        // Int32(UInt8) shifts cannot overflow here: the top byte lands in the sign bit.
        guard length >= 4, Int(length) <= maximumMessageLength else { throw .invalidMessageLength(type: type, length: length) }
        if let fixed = PostgresBackendMessage.fixedLength(of: type), fixed != length { throw .invalidMessageLength(type: type, length: length) }
        let end = start + 1 + Int(length)
        guard buffer.count >= end else { return nil }
        let message = try PostgresBackendMessage.parse(type: type, payload: buffer[(start + 5)..<end])
        start = end
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
        }
        return message
    }
}

/// The server's one-byte answer to SSLRequest (protocol-flow §"SSL Session Encryption").
public enum PostgresSSLResponse: Equatable, Sendable {
    /// 'S': start the TLS handshake now.
    case willingToUseTLS
    /// 'N': continue unencrypted (or give up, as `sslmode` says).
    case unwilling

    /// Reads the answer from everything received since SSLRequest was sent: nil while nothing
    /// has arrived. Anything after the byte is refused: the server sends nothing more until
    /// the client speaks, so extra bytes after 'S' were injected before TLS (CVE-2021-23222)
    /// and after 'N' they are out of step.
    public static func parse(_ received: some Collection<UInt8>) throws(PostgresProtocolError) -> PostgresSSLResponse? {
        guard let byte = received.first else { return nil }
        let response: PostgresSSLResponse
        switch byte {
        case UInt8(ascii: "S"): response = .willingToUseTLS
        case UInt8(ascii: "N"): response = .unwilling
        default: throw .invalidSSLResponse(byte)
        }
        guard received.count == 1 else { throw .bytesAfterSSLResponse(count: received.count - 1) }
        return response
    }
}
