import HTTP
import Testing

@testable import Postgres

/// SCRAM-SHA-256 against RFC 7677's exchange and against servers that break the rules.
@Suite struct SCRAMSHA256ClientTests {
    // RFC 7677 §3: user "user", password "pencil".
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    func rfcClientAfterFirst() -> SCRAMSHA256Client {
        var client = SCRAMSHA256Client(password: "pencil", clientNonce: Self.clientNonce, username: "user")
        _ = client.clientFirstMessage()
        return client
    }

    func expectFailure(serverFirst: String, _ expected: SCRAMError, sourceLocation: SourceLocation = #_sourceLocation) {
        var client = rfcClientAfterFirst()
        #expect(throws: expected, sourceLocation: sourceLocation) { try client.clientFinalMessage(serverFirstMessage: Array(serverFirst.utf8)) }
    }

    @Test func rfc7677ExchangeGivesTheProofAndAcceptsTheServerSignature() throws {
        var client = SCRAMSHA256Client(password: "pencil", clientNonce: Self.clientNonce, username: "user")
        #expect(String(decoding: client.clientFirstMessage(), as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.clientFinalMessage(serverFirstMessage: Array(Self.serverFirst.utf8))
        #expect(String(decoding: final, as: UTF8.self) == Self.clientFinal)
        #expect(!client.isAuthenticated)
        try client.verifyServerFinalMessage(Array(Self.serverFinal.utf8))
        #expect(client.isAuthenticated)
    }

    @Test func postgresClientFirstMessageHasAnEmptyUserAndNoChannelBinding() {
        var client = SCRAMSHA256Client(password: "x", clientNonce: "abc")
        #expect(String(decoding: client.clientFirstMessage(), as: UTF8.self) == "n,,n=,r=abc")
    }

    @Test func aWrongServerSignatureIsRefused() throws {
        var client = rfcClientAfterFirst()
        _ = try client.clientFinalMessage(serverFirstMessage: Array(Self.serverFirst.utf8))
        // The right signature with its last byte changed: a server that does not know the password.
        #expect(throws: SCRAMError.serverSignatureMismatch) {
            try client.verifyServerFinalMessage(Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8=".utf8))
        }
        #expect(!client.isAuthenticated)
        // A failed exchange stays failed: the right signature afterwards does not authenticate.
        #expect(throws: SCRAMError.outOfOrder) { try client.verifyServerFinalMessage(Array(Self.serverFinal.utf8)) }
    }

    @Test func aServerErrorIsRefusedWithItsMessage() throws {
        var client = rfcClientAfterFirst()
        _ = try client.clientFinalMessage(serverFirstMessage: Array(Self.serverFirst.utf8))
        #expect(throws: SCRAMError.serverError("invalid-proof")) { try client.verifyServerFinalMessage(Array("e=invalid-proof".utf8)) }
        #expect(!client.isAuthenticated)
    }

    @Test func aServerFinalMessageWithoutASignatureIsMalformed() throws {
        for message in ["", "x=1", "v=not base64!"] {
            var client = rfcClientAfterFirst()
            _ = try client.clientFinalMessage(serverFirstMessage: Array(Self.serverFirst.utf8))
            #expect(throws: SCRAMError.self) { try client.verifyServerFinalMessage(Array(message.utf8)) }
            #expect(!client.isAuthenticated)
        }
    }

    @Test func aServerNonceThatDoesNotExtendOursIsRefused() {
        expectFailure(serverFirst: "r=someoneElsesNonce123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", .nonceMismatch)
        // Only our own nonce back: the server added nothing of its own.
        expectFailure(serverFirst: "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", .nonceMismatch)
    }

    @Test func iterationCountsOutsideTheBoundsAreRefused() {
        let prefix = "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==,i="
        expectFailure(serverFirst: prefix + "4095", .iterationCountOutOfRange(4095))
        expectFailure(serverFirst: prefix + "1", .iterationCountOutOfRange(1))
        expectFailure(serverFirst: prefix + "10000001", .iterationCountOutOfRange(10_000_001))
        expectFailure(serverFirst: prefix + "99999999999999999999999", .iterationCountOutOfRange(Int.max))
    }

    @Test func malformedServerFirstMessagesAreRefused() {
        let malformed = [
            "",
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==",  // no i=
            "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOserver,i=4096",  // out of order
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",  // bad padding
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22Z aJ0SNY7soEsUEjb6gQ=,i=4096",  // space in the salt
            "r=rOprNGfwEbeRWgbNEkqOserver,s=,i=4096",  // empty salt
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+4096",
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096.0",
            "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
            "r=rOprNGfwEbeRWgbNEkqO\u{7F},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // not printable
            "rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // no r=
        ]
        for message in malformed {
            var client = rfcClientAfterFirst()
            #expect(throws: SCRAMError.self, "\(message)") { try client.clientFinalMessage(serverFirstMessage: Array(message.utf8)) }
        }
        var client = rfcClientAfterFirst()
        #expect(throws: SCRAMError.malformedServerMessage("the server-first message is not UTF-8")) {
            try client.clientFinalMessage(serverFirstMessage: [0x72, 0x3D, 0xFF])
        }
        expectFailure(serverFirst: "m=ext," + Self.serverFirst, .unsupportedMandatoryExtension)
    }

    @Test func extensionsAfterTheIterationCountAreIgnored() throws {
        var client = rfcClientAfterFirst()
        let message = try client.clientFinalMessage(serverFirstMessage: Array((Self.serverFirst + ",x=future").utf8))
        // The extension is part of AuthMessage, so the proof differs from the RFC's.
        #expect(String(decoding: message, as: UTF8.self).hasPrefix("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="))
        #expect(String(decoding: message, as: UTF8.self) != Self.clientFinal)
    }

    @Test func messagesOutOfOrderAreRefused() {
        var fresh = SCRAMSHA256Client(password: "pencil", clientNonce: Self.clientNonce)
        #expect(throws: SCRAMError.outOfOrder) { try fresh.clientFinalMessage(serverFirstMessage: Array(Self.serverFirst.utf8)) }
        var early = rfcClientAfterFirst()
        #expect(throws: SCRAMError.outOfOrder) { try early.verifyServerFinalMessage(Array(Self.serverFinal.utf8)) }
    }

    @Test func randomNoncesAre18BytesOfBase64AndDiffer() throws {
        let first = SCRAMSHA256Client.randomClientNonce()
        let second = SCRAMSHA256Client.randomClientNonce()
        #expect(first.count == 24)
        #expect(Digest.base64Decoded(Substring(first))?.count == 18)
        #expect(first != second)
    }

    @Test func asciiPasswordsPassThroughAndOthersAreSentAsUTF8() {
        #expect(SASLprep.prepared("pencil") == Array("pencil".utf8))
        #expect(SASLprep.prepared("pässwörd") == [0x70, 0xC3, 0xA4, 0x73, 0x73, 0x77, 0xC3, 0xB6, 0x72, 0x64])
    }
}
