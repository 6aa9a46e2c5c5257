extension PostgresBackendMessage {
    /// Type bytes of messages with a fixed length, checked as soon as the header arrives so a
    /// lying length is refused before its payload is awaited.
    static func fixedLength(of type: UInt8) -> Int32? {
        switch type {
        case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "I"): 4
        case UInt8(ascii: "Z"): 5
        case UInt8(ascii: "K"): 12  // protocol 3.0: a 4-byte secret (3.2 allows up to 256)
        default: nil
        }
    }

    static func isKnownType(_ type: UInt8) -> Bool {
        fixedLength(of: type) != nil || "RSTDCENAtv".utf8.contains(type)
    }

    /// Parses one message's payload (the bytes after its length field), which must be consumed
    /// exactly: a field missing or a byte left over is a protocol error.
    static func parse(type: UInt8, payload: ArraySlice<UInt8>) throws(PostgresProtocolError) -> PostgresBackendMessage {
        var reader = PostgresPayloadReader(type: type, payload: payload)
        let message = try parseFields(type: type, &reader)
        try reader.expectEnd()
        return message
    }

    private static func parseFields(type: UInt8, _ r: inout PostgresPayloadReader) throws(PostgresProtocolError) -> PostgresBackendMessage {
        switch type {
        case UInt8(ascii: "R"): return .authentication(try parseAuthentication(&r))
        case UInt8(ascii: "S"): return .parameterStatus(name: try r.readCString(), value: try r.readCString())
        case UInt8(ascii: "K"): return .backendKeyData(processID: try r.readInt32(), secretKey: try r.readInt32())
        case UInt8(ascii: "Z"):
            let byte = try r.readUInt8()
            guard let status = PostgresTransactionStatus(rawValue: byte) else { throw .invalidField(type: type, field: "transaction status") }
            return .readyForQuery(status)
        case UInt8(ascii: "T"):
            // name (≥ 1 byte: its NUL) + 18 bytes of fixed fields per column.
            let count = try r.readCount16(minimumElementSize: 19)
            var columns: [PostgresColumnDescription] = []
            columns.reserveCapacity(count)
            for _ in 0..<count { columns.append(try parseColumn(&r)) }
            return .rowDescription(columns)
        case UInt8(ascii: "D"):
            let count = try r.readCount16(minimumElementSize: 4)
            var values: [[UInt8]?] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                let length = try r.readInt32()
                if length == -1 {
                    values.append(nil)
                } else {
                    guard length >= 0 else { throw .invalidField(type: type, field: "column length") }
                    values.append(try r.readBytes(Int(length)))
                }
            }
            return .dataRow(values)
        case UInt8(ascii: "C"): return .commandComplete(try r.readCString())
        case UInt8(ascii: "I"): return .emptyQueryResponse
        case UInt8(ascii: "E"): return .errorResponse(try parseErrorFields(&r))
        case UInt8(ascii: "N"): return .noticeResponse(try parseErrorFields(&r))
        case UInt8(ascii: "A"):
            let processID = try r.readInt32()
            return .notification(PostgresNotification(processID: processID, channel: try r.readCString(), payload: try r.readCString()))
        case UInt8(ascii: "1"): return .parseComplete
        case UInt8(ascii: "2"): return .bindComplete
        case UInt8(ascii: "3"): return .closeComplete
        case UInt8(ascii: "n"): return .noData
        case UInt8(ascii: "s"): return .portalSuspended
        case UInt8(ascii: "t"):
            let count = try r.readCount16(minimumElementSize: 4)
            var types: [PostgresOID] = []
            types.reserveCapacity(count)
            for _ in 0..<count { types.append(PostgresOID(try r.readUInt32())) }
            return .parameterDescription(types)
        case UInt8(ascii: "v"):
            let newestMinor = try r.readInt32()
            let count = Int(try r.readInt32())
            guard count >= 0, count <= r.remaining else { throw .invalidCount(type: type, count: count) }
            var options: [String] = []
            for _ in 0..<count { options.append(try r.readCString()) }
            return .negotiateProtocolVersion(newestMinorVersion: newestMinor, unrecognizedOptions: options)
        default:
            throw .unknownMessageType(type)
        }
    }

    private static func parseAuthentication(_ r: inout PostgresPayloadReader) throws(PostgresProtocolError) -> PostgresAuthenticationRequest {
        let code = try r.readInt32()
        switch code {
        case 0: return .ok
        case 3: return .cleartextPassword
        case 5: return .md5Password(salt: try r.readBytes(4))
        case 10:
            // A list of names, each NUL-terminated, ended by an empty one.
            var mechanisms: [String] = []
            while true {
                let name = try r.readCString()
                if name.isEmpty { break }
                mechanisms.append(name)
            }
            return .sasl(mechanisms: mechanisms)
        case 11: return .saslContinue(data: r.readRest())
        case 12: return .saslFinal(data: r.readRest())
        case 2, 6, 7, 8, 9:
            _ = r.readRest()  // GSSAPI continuation data: meaningless to us
            return .unsupported(code: code)
        default: throw .unknownAuthenticationCode(code)
        }
    }

    private static func parseColumn(_ r: inout PostgresPayloadReader) throws(PostgresProtocolError) -> PostgresColumnDescription {
        let name = try r.readCString()
        let tableOID = try r.readUInt32()
        let attribute = try r.readInt16()
        let dataType = PostgresOID(try r.readUInt32())
        let size = try r.readInt16()
        let modifier = try r.readInt32()
        guard let format = PostgresFormat(rawValue: try r.readInt16()) else { throw .invalidField(type: r.type, field: "format code") }
        return PostgresColumnDescription(
            name: name, tableOID: tableOID, columnAttributeNumber: attribute, dataType: dataType, dataTypeSize: size, typeModifier: modifier, format: format)
    }

    /// Code byte + string pairs until a zero code byte (protocol-message-formats: ErrorResponse).
    private static func parseErrorFields(_ r: inout PostgresPayloadReader) throws(PostgresProtocolError) -> PostgresError {
        var fields: [PostgresError.Field: String] = [:]
        while true {
            let code = try r.readUInt8()
            if code == 0 { break }
            fields[PostgresError.Field(code)] = try r.readCString()
        }
        return PostgresError(fields: fields)
    }
}
