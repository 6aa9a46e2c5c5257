/// What the client sends (protocol-message-formats, the messages marked "(F)").
///
/// `encode(into:)` appends the exact wire bytes; several messages may go in one buffer and one
/// write (the extended query protocol pipelines Parse/Bind/Describe/Execute/Sync).
public enum PostgresFrontendMessage: Sendable {
    /// Protocol 3.0 (196608): we speak 3.0, and a 3.2 server answers 3.0 clients as before
    /// (protocol-flow §"Protocol versions"). `user` is required; every other name is a GUC
    /// the session starts with (database, application_name, options, client_encoding…).
    case startup(parameters: [(name: String, value: String)])
    case sslRequest
    /// Sent on a new connection, never on the one running the query (protocol-flow §"Canceling
    /// Requests in Progress").
    case cancelRequest(processID: Int32, secretKey: Int32)
    case password(String)
    /// The first SASL message: the chosen mechanism and the client-first message (nil is
    /// "no initial response", sent as length -1).
    case saslInitialResponse(mechanism: String, data: [UInt8]?)
    case saslResponse([UInt8])
    /// The simple query protocol: one or more statements, no parameters.
    case query(String)
    /// Parameter types may be 0 ("let the server infer"); fewer types than `$n` is allowed.
    case parse(statement: String, query: String, parameterTypes: [PostgresOID])
    /// Parameter formats follow the protocol's rule: none = all text, one = applies to all,
    /// otherwise one per parameter; likewise result formats. A nil value is NULL (length -1).
    case bind(portal: String, statement: String, parameterFormats: [PostgresFormat], parameters: [[UInt8]?], resultFormats: [PostgresFormat])
    case describe(PostgresTarget, name: String)
    /// `maxRows` 0 runs the portal to completion.
    case execute(portal: String, maxRows: Int32)
    case sync
    case flush
    case close(PostgresTarget, name: String)
    case terminate

    /// The startup parameters in the order the connection sends them: user first, then the
    /// optional ones that are set, then `more`.
    public static func startup(user: String, database: String?, applicationName: String? = nil, options: String? = nil, more: [(name: String, value: String)] = [])
        -> PostgresFrontendMessage
    {
        var parameters = [(name: "user", value: user)]
        if let database { parameters.append((name: "database", value: database)) }
        if let applicationName { parameters.append((name: "application_name", value: applicationName)) }
        if let options { parameters.append((name: "options", value: options)) }
        return .startup(parameters: parameters + more)
    }

    /// The first Int32 of StartupMessage, SSLRequest and CancelRequest (which have no type byte).
    public static let protocolVersion: Int32 = 196_608  // 3 << 16 | 0
    static let sslRequestCode: Int32 = 80_877_103  // 1234 << 16 | 5679
    static let cancelRequestCode: Int32 = 80_877_102  // 1234 << 16 | 5678

    /// Appends this message's bytes; throws for a string with NUL or a value too large.
    /// On a throw, `buffer` is left as it was.
    public func encode(into buffer: inout [UInt8]) throws(PostgresProtocolError) {
        // The buffer moves into the writer and back, so appending never copies what it holds.
        var writer = PostgresMessageWriter()
        swap(&writer.bytes, &buffer)
        defer { swap(&writer.bytes, &buffer) }
        let start = writer.bytes.count
        do {
            try write(to: &writer)
        } catch {
            writer.bytes.removeSubrange(start...)
            throw error
        }
    }

    /// This message alone, encoded.
    public func encoded() throws(PostgresProtocolError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(into: &bytes)
        return bytes
    }

    private func write(to w: inout PostgresMessageWriter) throws(PostgresProtocolError) {
        switch self {
        case .startup(let parameters):
            try w.writeMessage(type: nil) { w throws(PostgresProtocolError) in
                w.writeInt32(Self.protocolVersion)
                for (name, value) in parameters {
                    // An empty name would be read as the list's terminator.
                    guard !name.isEmpty else { throw .unencodable(field: "empty startup parameter name") }
                    try w.writeCString(name, field: "startup parameter name")
                    try w.writeCString(value, field: "startup parameter \(name)")
                }
                w.writeUInt8(0)
            }
        case .sslRequest:
            try w.writeMessage(type: nil) { w in w.writeInt32(Self.sslRequestCode) }
        case .cancelRequest(let processID, let secretKey):
            try w.writeMessage(type: nil) { w in
                w.writeInt32(Self.cancelRequestCode)
                w.writeInt32(processID)
                w.writeInt32(secretKey)
            }
        case .password(let password):
            try w.writeMessage(type: UInt8(ascii: "p")) { w throws(PostgresProtocolError) in try w.writeCString(password, field: "password") }
        case .saslInitialResponse(let mechanism, let data):
            try w.writeMessage(type: UInt8(ascii: "p")) { w throws(PostgresProtocolError) in
                try w.writeCString(mechanism, field: "SASL mechanism")
                if let data {
                    w.writeInt32(Int32(data.count))
                    w.writeBytes(data)
                } else {
                    w.writeInt32(-1)
                }
            }
        case .saslResponse(let data):
            try w.writeMessage(type: UInt8(ascii: "p")) { w in w.writeBytes(data) }
        case .query(let sql):
            try w.writeMessage(type: UInt8(ascii: "Q")) { w throws(PostgresProtocolError) in try w.writeCString(sql, field: "query") }
        case .parse(let statement, let query, let parameterTypes):
            try w.writeMessage(type: UInt8(ascii: "P")) { w throws(PostgresProtocolError) in
                try w.writeCString(statement, field: "statement name")
                try w.writeCString(query, field: "query")
                try w.writeCount16(parameterTypes.count, field: "parameter type count")
                for type in parameterTypes { w.writeUInt32(type.rawValue) }
            }
        case .bind(let portal, let statement, let parameterFormats, let parameters, let resultFormats):
            try w.writeMessage(type: UInt8(ascii: "B")) { w throws(PostgresProtocolError) in
                try w.writeCString(portal, field: "portal name")
                try w.writeCString(statement, field: "statement name")
                try w.writeCount16(parameterFormats.count, field: "parameter format count")
                for format in parameterFormats { w.writeInt16(format.rawValue) }
                try w.writeCount16(parameters.count, field: "parameter count")
                for parameter in parameters {
                    if let parameter {
                        guard parameter.count <= Int(Int32.max) else { throw .valueTooLarge(field: "parameter value") }
                        w.writeInt32(Int32(parameter.count))
                        w.writeBytes(parameter)
                    } else {
                        w.writeInt32(-1)  // NULL
                    }
                }
                try w.writeCount16(resultFormats.count, field: "result format count")
                for format in resultFormats { w.writeInt16(format.rawValue) }
            }
        case .describe(let target, let name):
            try w.writeMessage(type: UInt8(ascii: "D")) { w throws(PostgresProtocolError) in
                w.writeUInt8(target.rawValue)
                try w.writeCString(name, field: "\(target) name")
            }
        case .execute(let portal, let maxRows):
            try w.writeMessage(type: UInt8(ascii: "E")) { w throws(PostgresProtocolError) in
                try w.writeCString(portal, field: "portal name")
                w.writeInt32(maxRows)
            }
        case .sync:
            try w.writeMessage(type: UInt8(ascii: "S")) { _ in }
        case .flush:
            try w.writeMessage(type: UInt8(ascii: "H")) { _ in }
        case .close(let target, let name):
            try w.writeMessage(type: UInt8(ascii: "C")) { w throws(PostgresProtocolError) in
                w.writeUInt8(target.rawValue)
                try w.writeCString(name, field: "\(target) name")
            }
        case .terminate:
            try w.writeMessage(type: UInt8(ascii: "X")) { _ in }
        }
    }
}

/// What Describe and Close act on: a prepared statement or a portal ("" is the unnamed one).
public enum PostgresTarget: UInt8, Sendable, Hashable {
    case statement = 0x53  // 'S'
    case portal = 0x50  // 'P'
}

/// A type's OID as `pg_type` numbers it; the ones this client encodes and decodes are named.
public struct PostgresOID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// "Unspecified": in Parse, the server infers the parameter's type.
    public static let unspecified = PostgresOID(0)
    public static let bool = PostgresOID(16)
    public static let bytea = PostgresOID(17)
    public static let name = PostgresOID(19)
    public static let int8 = PostgresOID(20)
    public static let int2 = PostgresOID(21)
    public static let int4 = PostgresOID(23)
    public static let text = PostgresOID(25)
    public static let json = PostgresOID(114)
    public static let float8 = PostgresOID(701)
    public static let varchar = PostgresOID(1043)
    public static let timestamptz = PostgresOID(1184)
    public static let uuid = PostgresOID(2950)
    public static let jsonb = PostgresOID(3802)

    public var description: String { String(rawValue) }
}
