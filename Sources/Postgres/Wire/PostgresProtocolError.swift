/// Why bytes from or for the server were refused: a broken or hostile stream, never a crash.
///
/// Any of these ends the connection (the stream can no longer be trusted to be in step);
/// errors the server reports itself are `PostgresError`.
public enum PostgresProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    // Framing (protocol-message-formats: every backend message is Byte1 type, Int32 length).
    /// The length field is below 4 (it counts itself) or above the configured maximum.
    case invalidMessageLength(type: UInt8, length: Int32)
    /// A type byte this client does not speak (COPY, function calls, or garbage).
    case unknownMessageType(UInt8)
    /// A message whose payload ended before a field it announces.
    case truncatedMessage(type: UInt8)
    /// A message with bytes left after its last field.
    case trailingBytes(type: UInt8)
    /// A string field without its terminating NUL within the message.
    case missingStringTerminator(type: UInt8)
    case invalidUTF8(type: UInt8)
    /// A count (fields, columns, parameters) below zero or beyond what the payload can hold.
    case invalidCount(type: UInt8, count: Int)
    /// A field with a value outside its documented set (a ReadyForQuery status, a format code…).
    case invalidField(type: UInt8, field: String)
    /// An Authentication request code this client does not know.
    case unknownAuthenticationCode(Int32)

    // SSL negotiation (protocol-flow §"SSL Session Encryption").
    /// The answer to SSLRequest was neither 'S' nor 'N'.
    case invalidSSLResponse(UInt8)
    /// Bytes arrived after the SSL answer before the TLS handshake: they could be injected by
    /// a man in the middle and must not be read as if they came through TLS (CVE-2021-23222).
    case bytesAfterSSLResponse(count: Int)

    // Encoding frontend messages.
    /// A string sent as a C string contains NUL: the server would read a truncated value.
    case embeddedNUL(field: String)
    /// A message or a count larger than its Int32/Int16 field can carry.
    case valueTooLarge(field: String)
    /// A value the message cannot express, such as an empty name where an empty string ends a list.
    case unencodable(field: String)

    public var description: String {
        switch self {
        case .invalidMessageLength(let type, let length): "message \(Self.name(type)) announces an invalid length \(length)"
        case .unknownMessageType(let type): "unknown backend message type \(Self.name(type))"
        case .truncatedMessage(let type): "message \(Self.name(type)) ends before its fields do"
        case .trailingBytes(let type): "message \(Self.name(type)) has bytes after its last field"
        case .missingStringTerminator(let type): "message \(Self.name(type)) has a string without its NUL terminator"
        case .invalidUTF8(let type): "message \(Self.name(type)) has a string that is not UTF-8"
        case .invalidCount(let type, let count): "message \(Self.name(type)) announces an invalid count \(count)"
        case .invalidField(let type, let field): "message \(Self.name(type)) has an invalid \(field)"
        case .unknownAuthenticationCode(let code): "unknown authentication request \(code)"
        case .invalidSSLResponse(let byte): "the answer to SSLRequest is \(Self.name(byte)), not 'S' or 'N'"
        case .bytesAfterSSLResponse(let count): "\(count) unencrypted bytes followed the server's SSL answer (CVE-2021-23222)"
        case .embeddedNUL(let field): "\(field) contains a NUL byte"
        case .valueTooLarge(let field): "\(field) is too large for the protocol"
        case .unencodable(let field): "cannot encode \(field)"
        }
    }

    /// A type byte as the protocol docs name it ('Z') when printable, else in hex.
    static func name(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x\(String(byte, radix: 16))"
    }
}
