/// Appends the protocol's big-endian integers and C strings (protocol-message-formats: Int16,
/// Int32, String).
struct PostgresMessageWriter {
    var bytes: [UInt8]

    init(into bytes: [UInt8] = []) { self.bytes = bytes }

    mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    mutating func writeInt16(_ value: Int16) {
        let v = UInt16(bitPattern: value)
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 0xFF))
    }

    mutating func writeInt32(_ value: Int32) {
        let v = UInt32(bitPattern: value)
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    mutating func writeUInt32(_ value: UInt32) { writeInt32(Int32(bitPattern: value)) }

    mutating func writeBytes(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    /// Refuses an embedded NUL: the server would stop reading the string there.
    mutating func writeCString(_ value: String, field: String) throws(PostgresProtocolError) {
        let utf8 = value.utf8
        guard !utf8.contains(0) else { throw .embeddedNUL(field: field) }
        bytes.append(contentsOf: utf8)
        bytes.append(0)
    }

    /// Writes `count` as an Int16 count field, refusing what the field cannot carry.
    mutating func writeCount16(_ count: Int, field: String) throws(PostgresProtocolError) {
        // The server reads these counts as unsigned 16-bit (libpq caps parameters at 65535).
        guard count <= Int(UInt16.max) else { throw .valueTooLarge(field: field) }
        writeInt16(Int16(bitPattern: UInt16(count)))
    }

    /// Writes `type`, then the message `body` writes, then patches the Int32 length (which
    /// counts itself but not the type byte).
    mutating func writeMessage(type: UInt8?, _ body: (inout PostgresMessageWriter) throws(PostgresProtocolError) -> Void) throws(PostgresProtocolError) {
        if let type { bytes.append(type) }
        let lengthAt = bytes.count
        writeInt32(0)
        try body(&self)
        let length = bytes.count - lengthAt
        guard length <= Int(Int32.max) else { throw .valueTooLarge(field: "message length") }
        let v = UInt32(length)
        for k in 0..<4 { bytes[lengthAt + k] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * k)) }
    }
}
