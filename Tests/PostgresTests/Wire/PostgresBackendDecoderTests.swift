import Testing
@testable import Postgres

/// The decoder against hand-written server bytes (protocol-message-formats), in every split.
@Suite struct PostgresBackendDecoderTests {
    typealias B = WireBytes

    /// A startup and one extended query as a server sends them, written out by hand.
    static let conversation: [UInt8] =
        B.hex("52 00 00 00 17 00 00 00 0A") + B.cString("SCRAM-SHA-256") + [0]  // AuthenticationSASL
        + B.hex("52 00 00 00 0C 00 00 00 0B") + B.ascii("r=ab")  // AuthenticationSASLContinue
        + B.hex("52 00 00 00 08 00 00 00 00")  // AuthenticationOk
        + B.message("S", B.cString("TimeZone") + B.cString("UTC"))
        + B.hex("4B 00 00 00 0C 00 00 30 39 DE AD BE EF")  // BackendKeyData pid 12345
        + B.hex("5A 00 00 00 05 49")  // ReadyForQuery idle
        + B.hex("31 00 00 00 04 32 00 00 00 04")  // ParseComplete, BindComplete
        + B.message("T", B.hex("00 01") + B.cString("id") + B.hex("00 00 40 00 00 01 00 00 00 14 00 08 FF FF FF FF 00 01"))
        + B.message("D", B.hex("00 02 00 00 00 08 00 00 00 00 00 00 00 2A FF FF FF FF"))
        + B.message("C", B.cString("SELECT 1"))
        + B.message("N", B.ascii("C01000") + [0] + B.ascii("Mcareful") + [0] + B.ascii("SWARNING") + [0] + [0])
        + B.message("A", B.hex("00 00 00 07") + B.cString("ops") + B.cString("42"))
        + B.hex("5A 00 00 00 05 54")  // ReadyForQuery in transaction

    static let conversationMessages: [PostgresBackendMessage] = [
        .authentication(.sasl(mechanisms: ["SCRAM-SHA-256"])),
        .authentication(.saslContinue(data: B.ascii("r=ab"))),
        .authentication(.ok),
        .parameterStatus(name: "TimeZone", value: "UTC"),
        .backendKeyData(processID: 12345, secretKey: Int32(bitPattern: 0xDEAD_BEEF)),
        .readyForQuery(.idle),
        .parseComplete, .bindComplete,
        .rowDescription([
            PostgresColumnDescription(name: "id", tableOID: 0x4000, columnAttributeNumber: 1, dataType: .int8, dataTypeSize: 8, typeModifier: -1, format: .binary)
        ]),
        .dataRow([[0, 0, 0, 0, 0, 0, 0, 42], nil]),
        .commandComplete("SELECT 1"),
        .noticeResponse(PostgresError(fields: [.localizedSeverity: "WARNING", .sqlState: "01000", .message: "careful"])),
        .notification(PostgresNotification(processID: 7, channel: "ops", payload: "42")),
        .readyForQuery(.inTransaction),
    ]

    @Test func aConversationDecodesWhole() {
        #expect(DecodeOutcome.whole(Self.conversation) == DecodeOutcome(messages: Self.conversationMessages))
    }

    @Test func byteByByteAndRandomSplitsDecodeTheSame() {
        let whole = DecodeOutcome.whole(Self.conversation)
        #expect(DecodeOutcome.byteByByte(Self.conversation) == whole)
        for seed in UInt64(1)...50 { #expect(DecodeOutcome.randomSplits(Self.conversation, seed: seed) == whole, "seed \(seed)") }
    }

    @Test func everyMessageReencodesToItsBytes() throws {
        var bytes: [UInt8] = []
        for message in Self.conversationMessages { bytes += try message.encoded() }
        #expect(bytes == Self.conversation)
    }

    @Test func theRestOfEveryMessageKindRoundTrips() throws {
        let messages: [PostgresBackendMessage] = [
            .authentication(.cleartextPassword), .authentication(.md5Password(salt: [1, 2, 3, 4])), .authentication(.saslFinal(data: B.ascii("v=xyz"))),
            .authentication(.unsupported(code: 7)), .readyForQuery(.failedTransaction), .emptyQueryResponse, .closeComplete, .noData, .portalSuspended,
            .parameterDescription([.int8, .text, .jsonb]), .rowDescription([]), .dataRow([]), .dataRow([[]]),
            .errorResponse(PostgresError(fields: [.severity: "ERROR", .sqlState: "23505", .message: "duplicate key", .constraint: "k"])),
            .negotiateProtocolVersion(newestMinorVersion: 0, unrecognizedOptions: ["_pq_.x"]),
        ]
        var bytes: [UInt8] = []
        for message in messages { bytes += try message.encoded() }
        #expect(DecodeOutcome.whole(bytes) == DecodeOutcome(messages: messages))
        #expect(DecodeOutcome.randomSplits(bytes, seed: 7) == DecodeOutcome(messages: messages))
    }

    @Test func md5AuthenticationCarriesItsSalt() {
        let bytes = B.hex("52 00 00 00 0C 00 00 00 05 0A 0B 0C 0D")
        #expect(DecodeOutcome.whole(bytes).messages == [.authentication(.md5Password(salt: [10, 11, 12, 13]))])
    }

    @Test func anIncompleteMessageWaitsAndStaysBuffered() {
        let outcome = DecodeOutcome.whole(B.hex("5A 00 00 00 05 49 43 00 00 00 0D") + B.ascii("SELE"))
        #expect(outcome == DecodeOutcome(messages: [.readyForQuery(.idle)], leftover: 9))
    }

    // MARK: Malformed input: typed errors, never a crash or an over-read.

    static func error(_ bytes: [UInt8], maximumMessageLength: Int = PostgresBackendDecoder.defaultMaximumMessageLength) -> PostgresProtocolError? {
        DecodeOutcome.whole(bytes, maximumMessageLength: maximumMessageLength).error
    }

    @Test func lengthsBelow4NegativeOrBeyondTheMaximumAreRefusedAtTheHeader() {
        #expect(Self.error(B.hex("43 00 00 00 03")) == .invalidMessageLength(type: 0x43, length: 3))
        #expect(Self.error(B.hex("43 FF FF FF FF")) == .invalidMessageLength(type: 0x43, length: -1))
        #expect(Self.error(B.hex("44 80 00 00 00")) == .invalidMessageLength(type: 0x44, length: Int32.min))
        // Refused before the 2,000 payload bytes are awaited.
        #expect(Self.error(B.hex("44 00 00 07 D0"), maximumMessageLength: 1024) == .invalidMessageLength(type: 0x44, length: 2000))
        #expect(Self.error(B.hex("44 00 00 04 00 00 00"), maximumMessageLength: 1024) == nil)
    }

    @Test func fixedSizeMessagesWithAnotherLengthAreRefused() {
        #expect(Self.error(B.hex("5A 00 00 00 06 49 49")) == .invalidMessageLength(type: 0x5A, length: 6))
        #expect(Self.error(B.hex("31 00 00 00 05 00")) == .invalidMessageLength(type: 0x31, length: 5))
        #expect(Self.error(B.hex("4B 00 00 00 08 00 00 00 01")) == .invalidMessageLength(type: 0x4B, length: 8))
    }

    @Test func unknownTypesAreRefusedAtTheirFirstByte() {
        #expect(Self.error(B.ascii("G")) == .unknownMessageType(UInt8(ascii: "G")))  // CopyInResponse: never asked for
        #expect(Self.error([0]) == .unknownMessageType(0))
        #expect(Self.error(B.hex("5A 00 00 00 05 49") + B.ascii("HTTP/1.1 200 OK")) == .unknownMessageType(UInt8(ascii: "H")))
    }

    @Test func stringsWithoutTheirNULAreRefused() {
        #expect(Self.error(B.message("C", B.ascii("SELECT 1"))) == .missingStringTerminator(type: 0x43))
        #expect(Self.error(B.message("S", B.cString("TimeZone") + B.ascii("UTC"))) == .missingStringTerminator(type: 0x53))
        #expect(Self.error(B.message("R", B.int32(10) + B.cString("SCRAM-SHA-256"))) == .missingStringTerminator(type: 0x52))
        #expect(Self.error(B.message("A", B.int32(1) + B.cString("ch"))) == .missingStringTerminator(type: 0x41))
    }

    @Test func truncatedFieldsAreRefused() {
        #expect(Self.error(B.message("R", [0, 0])) == .truncatedMessage(type: 0x52))
        #expect(Self.error(B.message("R", B.int32(5) + [1, 2])) == .truncatedMessage(type: 0x52))
        #expect(Self.error(B.message("E", B.ascii("SERROR") + [0])) == .truncatedMessage(type: 0x45))  // no closing zero byte
        #expect(Self.error(B.message("D", B.hex("00 01 00 00 00 64 01 02"))) == .truncatedMessage(type: 0x44))  // column of 100 bytes, 2 sent
        #expect(Self.error(B.message("T", B.hex("00 01") + B.cString("id") + B.hex("00 00 00 00 00 00 00 00 00 14 00 08 FF FF FF FF"))) == .truncatedMessage(type: 0x54))
    }

    @Test func countsBeyondThePayloadAreRefused() {
        #expect(Self.error(B.message("D", B.hex("00 05 FF FF FF FF"))) == .invalidCount(type: 0x44, count: 5))
        #expect(Self.error(B.message("D", B.hex("FF FF"))) == .invalidCount(type: 0x44, count: -1))
        #expect(Self.error(B.message("T", B.hex("7F FF"))) == .invalidCount(type: 0x54, count: 32767))
        #expect(Self.error(B.message("t", B.hex("00 02 00 00 00 14"))) == .invalidCount(type: 0x74, count: 2))
        #expect(Self.error(B.message("v", B.int32(0) + B.int32(1_000_000))) == .invalidCount(type: 0x76, count: 1_000_000))
        #expect(Self.error(B.message("v", B.int32(0) + B.int32(-1))) == .invalidCount(type: 0x76, count: -1))
    }

    @Test func invalidFieldValuesAreRefused() {
        #expect(Self.error(B.hex("5A 00 00 00 05 58")) == .invalidField(type: 0x5A, field: "transaction status"))
        #expect(Self.error(B.message("D", B.hex("00 01 FF FF FF FE"))) == .invalidField(type: 0x44, field: "column length"))
        let column = B.hex("00 01") + B.cString("id") + B.hex("00 00 00 00 00 00 00 00 00 14 00 08 FF FF FF FF 00 02")
        #expect(Self.error(B.message("T", column)) == .invalidField(type: 0x54, field: "format code"))
        #expect(Self.error(B.message("R", B.int32(99))) == .unknownAuthenticationCode(99))
        #expect(Self.error(B.message("C", [0xC3, 0x28, 0])) == .invalidUTF8(type: 0x43))
    }

    @Test func bytesAfterTheLastFieldAreRefused() {
        #expect(Self.error(B.message("R", B.int32(0) + B.int32(0))) == .trailingBytes(type: 0x52))
        #expect(Self.error(B.message("C", B.cString("SELECT 1") + [0])) == .trailingBytes(type: 0x43))
        #expect(Self.error(B.message("R", B.int32(5) + [1, 2, 3, 4, 5])) == .trailingBytes(type: 0x52))
    }

    @Test func aFailedDecoderStaysFailed() throws {
        var decoder = PostgresBackendDecoder()
        decoder.append(B.hex("5A 00 00 00 05 58"))
        #expect(throws: PostgresProtocolError.invalidField(type: 0x5A, field: "transaction status")) { try decoder.next() }
        decoder.append(B.hex("5A 00 00 00 05 49"))
        #expect(throws: PostgresProtocolError.invalidField(type: 0x5A, field: "transaction status")) { try decoder.next() }
    }

    @Test func malformedInputGivesTheSameErrorInEverySplit() {
        let bytes = B.hex("5A 00 00 00 05 49") + B.message("D", B.hex("00 03 00 00 00 01 41 FF FF FF FF 00 00 00 09 01"))
        let whole = DecodeOutcome.whole(bytes)
        #expect(whole == DecodeOutcome(messages: [.readyForQuery(.idle)], error: .truncatedMessage(type: 0x44)))
        #expect(DecodeOutcome.byteByByte(bytes) == whole)
        for seed in UInt64(1)...20 { #expect(DecodeOutcome.randomSplits(bytes, seed: seed) == whole) }
    }

    @Test func errorsNameTheMessageTypeAsTheDocsDo() {
        #expect(PostgresProtocolError.unknownMessageType(UInt8(ascii: "G")).description == "unknown backend message type 'G'")
        #expect(PostgresProtocolError.invalidMessageLength(type: 0, length: -1).description == "message 0x0 announces an invalid length -1")
    }

    @Test func theEncoderRefusesWhatTheWireCannotCarry() {
        #expect(throws: PostgresProtocolError.unencodable(field: "MD5 salt of 3 bytes")) { try PostgresBackendMessage.authentication(.md5Password(salt: [1, 2, 3])).encoded() }
        #expect(throws: PostgresProtocolError.unencodable(field: "empty SASL mechanism name")) { try PostgresBackendMessage.authentication(.sasl(mechanisms: [""])).encoded() }
        #expect(throws: PostgresProtocolError.embeddedNUL(field: "command tag")) { try PostgresBackendMessage.commandComplete("a\u{0}").encoded() }
    }

    // MARK: The answer to SSLRequest

    @Test func sslAnswerIsOneByte() throws {
        #expect(try PostgresSSLResponse.parse([UInt8]()) == nil)
        #expect(try PostgresSSLResponse.parse(B.ascii("S")) == .willingToUseTLS)
        #expect(try PostgresSSLResponse.parse(B.ascii("N")) == .unwilling)
        #expect(throws: PostgresProtocolError.invalidSSLResponse(UInt8(ascii: "E"))) { try PostgresSSLResponse.parse(B.ascii("E")) }
    }

    @Test func bytesAfterTheSSLAnswerAreRefused() {
        // CVE-2021-23222: a man in the middle appends a forged AuthenticationOk after 'S'.
        #expect(throws: PostgresProtocolError.bytesAfterSSLResponse(count: 9)) { try PostgresSSLResponse.parse(B.ascii("S") + B.hex("52 00 00 00 08 00 00 00 00")) }
        #expect(throws: PostgresProtocolError.bytesAfterSSLResponse(count: 1)) { try PostgresSSLResponse.parse(B.ascii("NZ")) }
    }
}
