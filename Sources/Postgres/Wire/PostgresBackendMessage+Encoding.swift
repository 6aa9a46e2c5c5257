extension PostgresBackendMessage {
    /// The wire bytes a server sends for this message: what test servers and the decoder's
    /// round-trip checks are built from (the client itself only decodes these).
    public func encoded() throws(PostgresProtocolError) -> [UInt8] {
        var w = PostgresMessageWriter()
        try w.writeMessage(type: typeByte) { w throws(PostgresProtocolError) in try writeFields(to: &w) }
        return w.bytes
    }

    var typeByte: UInt8 {
        switch self {
        case .authentication: UInt8(ascii: "R")
        case .parameterStatus: UInt8(ascii: "S")
        case .backendKeyData: UInt8(ascii: "K")
        case .readyForQuery: UInt8(ascii: "Z")
        case .rowDescription: UInt8(ascii: "T")
        case .dataRow: UInt8(ascii: "D")
        case .commandComplete: UInt8(ascii: "C")
        case .emptyQueryResponse: UInt8(ascii: "I")
        case .errorResponse: UInt8(ascii: "E")
        case .noticeResponse: UInt8(ascii: "N")
        case .notification: UInt8(ascii: "A")
        case .parseComplete: UInt8(ascii: "1")
        case .bindComplete: UInt8(ascii: "2")
        case .closeComplete: UInt8(ascii: "3")
        case .noData: UInt8(ascii: "n")
        case .parameterDescription: UInt8(ascii: "t")
        case .portalSuspended: UInt8(ascii: "s")
        case .negotiateProtocolVersion: UInt8(ascii: "v")
        }
    }

    private func writeFields(to w: inout PostgresMessageWriter) throws(PostgresProtocolError) {
        switch self {
        case .authentication(let request):
            try Self.writeAuthentication(request, to: &w)
        case .parameterStatus(let name, let value):
            try w.writeCString(name, field: "parameter name")
            try w.writeCString(value, field: "parameter value")
        case .backendKeyData(let processID, let secretKey):
            w.writeInt32(processID)
            w.writeInt32(secretKey)
        case .readyForQuery(let status):
            w.writeUInt8(status.rawValue)
        case .rowDescription(let columns):
            try w.writeCount16(columns.count, field: "column count")
            for column in columns {
                try w.writeCString(column.name, field: "column name")
                w.writeUInt32(column.tableOID)
                w.writeInt16(column.columnAttributeNumber)
                w.writeUInt32(column.dataType.rawValue)
                w.writeInt16(column.dataTypeSize)
                w.writeInt32(column.typeModifier)
                w.writeInt16(column.format.rawValue)
            }
        case .dataRow(let values):
            try w.writeCount16(values.count, field: "column count")
            for value in values {
                guard let value else {
                    w.writeInt32(-1)
                    continue
                }
                guard value.count <= Int(Int32.max) else { throw .valueTooLarge(field: "column value") }
                w.writeInt32(Int32(value.count))
                w.writeBytes(value)
            }
        case .commandComplete(let tag):
            try w.writeCString(tag, field: "command tag")
        case .errorResponse(let error), .noticeResponse(let error):
            // Sorted by code so that equal errors encode to equal bytes.
            for (field, value) in error.fields.sorted(by: { $0.key.code < $1.key.code }) {
                guard field.code != 0 else { throw .unencodable(field: "error field code 0") }
                w.writeUInt8(field.code)
                try w.writeCString(value, field: "error field")
            }
            w.writeUInt8(0)
        case .notification(let notification):
            w.writeInt32(notification.processID)
            try w.writeCString(notification.channel, field: "channel")
            try w.writeCString(notification.payload, field: "payload")
        case .parameterDescription(let types):
            try w.writeCount16(types.count, field: "parameter count")
            for type in types { w.writeUInt32(type.rawValue) }
        case .negotiateProtocolVersion(let newestMinorVersion, let options):
            w.writeInt32(newestMinorVersion)
            w.writeInt32(Int32(clamping: options.count))
            for option in options { try w.writeCString(option, field: "protocol option") }
        case .emptyQueryResponse, .parseComplete, .bindComplete, .closeComplete, .noData, .portalSuspended:
            break
        }
    }

    private static func writeAuthentication(_ request: PostgresAuthenticationRequest, to w: inout PostgresMessageWriter) throws(PostgresProtocolError) {
        switch request {
        case .ok: w.writeInt32(0)
        case .cleartextPassword: w.writeInt32(3)
        case .md5Password(let salt):
            guard salt.count == 4 else { throw .unencodable(field: "MD5 salt of \(salt.count) bytes") }
            w.writeInt32(5)
            w.writeBytes(salt)
        case .sasl(let mechanisms):
            w.writeInt32(10)
            for mechanism in mechanisms {
                guard !mechanism.isEmpty else { throw .unencodable(field: "empty SASL mechanism name") }
                try w.writeCString(mechanism, field: "SASL mechanism")
            }
            w.writeUInt8(0)
        case .saslContinue(let data):
            w.writeInt32(11)
            w.writeBytes(data)
        case .saslFinal(let data):
            w.writeInt32(12)
            w.writeBytes(data)
        case .unsupported(let code):
            w.writeInt32(code)
        }
    }
}
