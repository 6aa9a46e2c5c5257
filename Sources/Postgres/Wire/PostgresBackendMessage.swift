/// What the server sends (protocol-message-formats, the messages marked "(B)"), decoded.
///
/// COPY and function-call messages are not here: this client never starts them, so they
/// arrive only from a broken or hostile server and are refused as unknown types.
public enum PostgresBackendMessage: Equatable, Sendable {
    case authentication(PostgresAuthenticationRequest)
    /// A run-time parameter's value: sent after startup and whenever a reported one changes.
    case parameterStatus(name: String, value: String)
    /// What a CancelRequest for this session must carry.
    case backendKeyData(processID: Int32, secretKey: Int32)
    case readyForQuery(PostgresTransactionStatus)
    case rowDescription([PostgresColumnDescription])
    /// One row's columns in the formats Bind asked for; nil is NULL.
    case dataRow([[UInt8]?])
    /// The command tag, e.g. "INSERT 0 1", "UPDATE 3", "SELECT 2".
    case commandComplete(String)
    case emptyQueryResponse
    case errorResponse(PostgresError)
    case noticeResponse(PostgresError)
    case notification(PostgresNotification)
    case parseComplete
    case bindComplete
    case closeComplete
    case noData
    case parameterDescription([PostgresOID])
    case portalSuspended
    /// The server supports an older minor version or not all `_pq_.` options we asked for.
    case negotiateProtocolVersion(newestMinorVersion: Int32, unrecognizedOptions: [String])
}

/// The Authentication message ('R'), by its Int32 code (protocol-message-formats).
public enum PostgresAuthenticationRequest: Equatable, Sendable {
    case ok  // 0
    case cleartextPassword  // 3
    case md5Password(salt: [UInt8])  // 5, 4 bytes
    case sasl(mechanisms: [String])  // 10, e.g. SCRAM-SHA-256, SCRAM-SHA-256-PLUS
    case saslContinue(data: [UInt8])  // 11
    case saslFinal(data: [UInt8])  // 12
    /// Kerberos V5 (2), SCM credentials (6), GSSAPI (7, 8) or SSPI (9): methods this client does
    /// not implement; the connection reports the code instead of a protocol error.
    case unsupported(code: Int32)
}

/// ReadyForQuery's status byte.
public enum PostgresTransactionStatus: UInt8, Equatable, Sendable {
    case idle = 0x49  // 'I'
    case inTransaction = 0x54  // 'T'
    /// In a failed transaction block: every query is refused until ROLLBACK.
    case failedTransaction = 0x45  // 'E'
}

/// One field of a RowDescription.
public struct PostgresColumnDescription: Equatable, Sendable {
    public var name: String
    /// The table's OID and the column's attribute number, or 0 when not a table column.
    public var tableOID: UInt32
    public var columnAttributeNumber: Int16
    public var dataType: PostgresOID
    /// pg_type.typlen: negative for variable-width types.
    public var dataTypeSize: Int16
    public var typeModifier: Int32
    /// Always text in a Describe of a statement (the formats are not known yet).
    public var format: PostgresFormat

    public init(
        name: String, tableOID: UInt32 = 0, columnAttributeNumber: Int16 = 0, dataType: PostgresOID, dataTypeSize: Int16 = -1, typeModifier: Int32 = -1,
        format: PostgresFormat = .text
    ) {
        self.name = name
        self.tableOID = tableOID
        self.columnAttributeNumber = columnAttributeNumber
        self.dataType = dataType
        self.dataTypeSize = dataTypeSize
        self.typeModifier = typeModifier
        self.format = format
    }
}

/// A NOTIFY delivered to a session that LISTENs on `channel`.
public struct PostgresNotification: Equatable, Sendable {
    /// The notifying session's backend process.
    public var processID: Int32
    public var channel: String
    public var payload: String

    public init(processID: Int32, channel: String, payload: String) {
        self.processID = processID
        self.channel = channel
        self.payload = payload
    }
}
