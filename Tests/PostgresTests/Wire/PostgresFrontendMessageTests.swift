import Testing
@testable import Postgres

/// Frontend messages against bytes written out by hand from protocol-message-formats.
@Suite struct PostgresFrontendMessageTests {
    typealias B = WireBytes

    @Test func sslRequestIsLength8AndCode1234_5679() throws {
        #expect(try PostgresFrontendMessage.sslRequest.encoded() == B.hex("00 00 00 08 04 D2 16 2F"))
    }

    @Test func cancelRequestCarriesProcessIDAndSecretKey() throws {
        let bytes = try PostgresFrontendMessage.cancelRequest(processID: 0x0102_0304, secretKey: -1).encoded()
        #expect(bytes == B.hex("00 00 00 10 04 D2 16 2E 01 02 03 04 FF FF FF FF"))
    }

    @Test func startupIsVersion3_0ThenNameValuePairsThenNUL() throws {
        let bytes = try PostgresFrontendMessage.startup(user: "postgres", database: "db").encoded()
        let expected = B.hex("00 00 00 23 00 03 00 00") + B.cString("user") + B.cString("postgres") + B.cString("database") + B.cString("db") + [0]
        #expect(bytes == expected)
    }

    @Test func startupKeepsParameterOrderAndOptionalOnes() throws {
        let message = PostgresFrontendMessage.startup(
            user: "u", database: nil, applicationName: "gw", options: "-c statement_timeout=5s", more: [(name: "client_encoding", value: "UTF8")])
        let bytes = try message.encoded()
        let body = ["user", "u", "application_name", "gw", "options", "-c statement_timeout=5s", "client_encoding", "UTF8"].flatMap(B.cString) + [0]
        #expect(bytes == B.int32(Int32(8 + body.count)) + B.hex("00 03 00 00") + body)
    }

    @Test func simpleMessagesAreTypeAndLength4() throws {
        #expect(try PostgresFrontendMessage.sync.encoded() == B.hex("53 00 00 00 04"))
        #expect(try PostgresFrontendMessage.flush.encoded() == B.hex("48 00 00 00 04"))
        #expect(try PostgresFrontendMessage.terminate.encoded() == B.hex("58 00 00 00 04"))
    }

    @Test func queryIsACString() throws {
        #expect(try PostgresFrontendMessage.query("SELECT 1").encoded() == B.hex("51 00 00 00 0D") + B.cString("SELECT 1"))
    }

    @Test func parseCarriesNameQueryAndParameterTypes() throws {
        let bytes = try PostgresFrontendMessage.parse(statement: "", query: "SELECT $1", parameterTypes: [.int8]).encoded()
        #expect(bytes == B.hex("50 00 00 00 15 00") + B.cString("SELECT $1") + B.hex("00 01 00 00 00 14"))
    }

    @Test func bindCarriesFormatsValuesWithMinusOneForNULLAndResultFormats() throws {
        let message = PostgresFrontendMessage.bind(
            portal: "", statement: "", parameterFormats: [.binary], parameters: [[0, 0, 0, 0, 0, 0, 0, 42], nil], resultFormats: [.binary])
        let expected =
            B.hex("42 00 00 00 20 00 00") + B.hex("00 01 00 01") + B.hex("00 02") + B.hex("00 00 00 08 00 00 00 00 00 00 00 2A")
            + B.hex("FF FF FF FF") + B.hex("00 01 00 01")
        #expect(try message.encoded() == expected)
    }

    @Test func describeExecuteAndCloseNameTheirTarget() throws {
        #expect(try PostgresFrontendMessage.describe(.portal, name: "").encoded() == B.hex("44 00 00 00 06 50 00"))
        #expect(try PostgresFrontendMessage.describe(.statement, name: "s1").encoded() == B.hex("44 00 00 00 08 53") + B.cString("s1"))
        #expect(try PostgresFrontendMessage.execute(portal: "", maxRows: 0).encoded() == B.hex("45 00 00 00 09 00 00 00 00 00"))
        #expect(try PostgresFrontendMessage.close(.statement, name: "s1").encoded() == B.hex("43 00 00 00 08 53") + B.cString("s1"))
    }

    @Test func passwordAndSASLMessagesAreAllTypeP() throws {
        #expect(try PostgresFrontendMessage.password("pw").encoded() == B.hex("70 00 00 00 07") + B.cString("pw"))
        let initial = try PostgresFrontendMessage.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: B.ascii("n,,n=,r=abc")).encoded()
        #expect(initial == B.hex("70 00 00 00 21") + B.cString("SCRAM-SHA-256") + B.hex("00 00 00 0B") + B.ascii("n,,n=,r=abc"))
        let empty = try PostgresFrontendMessage.saslInitialResponse(mechanism: "X", data: nil).encoded()
        #expect(empty == B.hex("70 00 00 00 0A") + B.cString("X") + B.hex("FF FF FF FF"))
        #expect(try PostgresFrontendMessage.saslResponse([1, 2, 3]).encoded() == B.hex("70 00 00 00 07 01 02 03"))
    }

    @Test func messagesAppendToOneBufferForOneWrite() throws {
        var buffer: [UInt8] = []
        try PostgresFrontendMessage.execute(portal: "", maxRows: 0).encode(into: &buffer)
        try PostgresFrontendMessage.sync.encode(into: &buffer)
        #expect(buffer == B.hex("45 00 00 00 09 00 00 00 00 00 53 00 00 00 04"))
    }

    @Test func anEmbeddedNULIsRefusedAndTheBufferLeftAsItWas() throws {
        var buffer = B.hex("53 00 00 00 04")
        #expect(throws: PostgresProtocolError.embeddedNUL(field: "query")) { try PostgresFrontendMessage.query("SELECT 1\u{0}; DROP").encode(into: &buffer) }
        #expect(buffer == B.hex("53 00 00 00 04"))
        #expect(throws: PostgresProtocolError.embeddedNUL(field: "password")) { try PostgresFrontendMessage.password("a\u{0}b").encoded() }
        #expect(throws: PostgresProtocolError.embeddedNUL(field: "startup parameter user")) {
            try PostgresFrontendMessage.startup(user: "a\u{0}", database: nil).encoded()
        }
        #expect(throws: PostgresProtocolError.embeddedNUL(field: "statement name")) {
            try PostgresFrontendMessage.parse(statement: "s\u{0}", query: "", parameterTypes: []).encoded()
        }
    }

    @Test func anEmptyStartupParameterNameIsRefused() {
        #expect(throws: PostgresProtocolError.unencodable(field: "empty startup parameter name")) {
            try PostgresFrontendMessage.startup(parameters: [(name: "", value: "x")]).encoded()
        }
    }

    @Test func moreThan65535ParametersAreRefused() {
        let message = PostgresFrontendMessage.bind(portal: "", statement: "", parameterFormats: [], parameters: Array(repeating: nil, count: 65_536), resultFormats: [])
        #expect(throws: PostgresProtocolError.valueTooLarge(field: "parameter count")) { try message.encoded() }
    }
}

/// Parse and Bind built from values: the types and formats `bindParameter` chooses.
@Suite struct PostgresFrontendMessageValuesTests {
    typealias B = WireBytes

    @Test func parseAndBindFromValues() throws {
        let values: [PostgresValue] = [.int64(42), .text("hi"), .null]
        let parse = try PostgresFrontendMessage.parse(query: "INSERT INTO t VALUES ($1, $2, $3)", values: values).encoded()
        let parseBody = [0] + B.cString("INSERT INTO t VALUES ($1, $2, $3)") + B.hex("00 03 00 00 00 14 00 00 00 19 00 00 00 00")
        #expect(parse == [0x50] + B.int32(Int32(parseBody.count + 4)) + parseBody)

        let bind = try PostgresFrontendMessage.bind(values: values).encoded()
        let bindBody =
            B.hex("00 00") + B.hex("00 03 00 01 00 00 00 00") + B.hex("00 03") + B.hex("00 00 00 08 00 00 00 00 00 00 00 2A") + B.hex("00 00 00 02") + B.ascii("hi")
            + B.hex("FF FF FF FF") + B.hex("00 01 00 01")
        #expect(bind == [0x42] + B.int32(Int32(bindBody.count + 4)) + bindBody)
    }
}
