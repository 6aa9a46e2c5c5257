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
