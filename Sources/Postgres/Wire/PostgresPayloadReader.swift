/// Reads the fields of one backend message's payload, never past its end.
///
/// Every read checks the bytes left first and throws `PostgresProtocolError` naming the message
/// type, so a lying length or count is a typed error rather than an over-read.
struct PostgresPayloadReader {
    let type: UInt8
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(type: UInt8, payload: ArraySlice<UInt8>) {
        self.type = type
        bytes = payload
        index = payload.startIndex
    }

    var remaining: Int { bytes.endIndex - index }

    mutating func readUInt8() throws(PostgresProtocolError) -> UInt8 {
        guard remaining >= 1 else { throw .truncatedMessage(type: type) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func readInt16() throws(PostgresProtocolError) -> Int16 {
        Int16(bitPattern: UInt16(truncatingIfNeeded: try readBigEndian(2)))
    }

    mutating func readInt32() throws(PostgresProtocolError) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: try readBigEndian(4)))
    }

    mutating func readUInt32() throws(PostgresProtocolError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(4))
    }

    private mutating func readBigEndian(_ count: Int) throws(PostgresProtocolError) -> UInt64 {
        guard remaining >= count else { throw .truncatedMessage(type: type) }
        var value: UInt64 = 0
        for i in index..<(index + count) { value = value << 8 | UInt64(bytes[i]) }
        index += count
        return value
    }

    mutating func readBytes(_ count: Int) throws(PostgresProtocolError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncatedMessage(type: type) }
        defer { index += count }
        return Array(bytes[index..<(index + count)])
    }

    /// The rest of the payload (SASL data, whose length is the message's).
    mutating func readRest() -> [UInt8] {
        defer { index = bytes.endIndex }
        return Array(bytes[index...])
    }

    /// A NUL-terminated UTF-8 string (protocol-message-formats: "String(s)").
    mutating func readCString() throws(PostgresProtocolError) -> String {
        guard let end = bytes[index...].firstIndex(of: 0) else { throw .missingStringTerminator(type: type) }
        guard let string = String(validating: bytes[index..<end], as: UTF8.self) else { throw .invalidUTF8(type: type) }
        index = end + 1
        return string
    }

    /// A count field checked against what the payload can still hold, given the least bytes
    /// each element takes: a hostile count cannot make us reserve memory for it.
    mutating func readCount16(minimumElementSize: Int) throws(PostgresProtocolError) -> Int {
        let count = Int(try readInt16())
        guard count >= 0, count * minimumElementSize <= remaining else { throw .invalidCount(type: type, count: count) }
        return count
    }

    mutating func expectEnd() throws(PostgresProtocolError) {
        guard remaining == 0 else { throw .trailingBytes(type: type) }
    }
}

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
