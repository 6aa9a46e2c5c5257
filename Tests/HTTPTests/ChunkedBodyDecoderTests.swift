import Testing
@testable import HTTP

/// Drives a decoder the way a connection does: a pending buffer that grows as pieces
/// arrive and shrinks by what each call consumed.
enum ChunkedFeeding {
    struct Outcome: Equatable {
        var result: ChunkedDecodeResult
        var body: [UInt8]
        /// Bytes consumed over all calls; for `complete` this is where the next message starts.
        var consumed: Int
    }

    static func feed(_ pieces: [[UInt8]], limits: HTTPParserLimits = .init()) -> Outcome {
        var decoder = ChunkedBodyDecoder(limits: limits)
        var pending: [UInt8] = [], body: [UInt8] = [], consumed = 0
        var last = ChunkedDecodeResult.needMoreData(consumed: 0)
        for piece in pieces {
            pending += piece
            last = pending.withUnsafeBytes { decoder.decode($0, into: &body) }
            switch last {
            case .needMoreData(let n):
                pending.removeFirst(n); consumed += n
            case .complete(let n):
                #expect(decoder.decodedBytes == body.count)
                return Outcome(result: .complete(consumed: consumed + n), body: body, consumed: consumed + n)
            case .invalid:
                return Outcome(result: last, body: body, consumed: consumed)
            }
        }
        #expect(decoder.decodedBytes == body.count)
        return Outcome(result: last, body: body, consumed: consumed)
    }

    static func whole(_ bytes: [UInt8], limits: HTTPParserLimits = .init()) -> Outcome { feed([bytes], limits: limits) }
    static func byteByByte(_ bytes: [UInt8], limits: HTTPParserLimits = .init()) -> Outcome { feed(bytes.map { [$0] }, limits: limits) }
    static func split(_ bytes: [UInt8], at k: Int) -> Outcome { feed([Array(bytes[..<k]), Array(bytes[k...])]) }
}

struct ValidChunkedBody: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let body: String
    var testDescription: String { name }
    init(_ name: String, _ raw: String, _ body: String) { self.name = name; self.raw = Array(raw.utf8); self.body = body }

    static let all: [ValidChunkedBody] = [
        .init("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
        .init("several chunks", "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n", "abcdefgh"),
        .init("empty body", "0\r\n\r\n", ""),
        .init("upper- and lower-case hex", "A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n", "01234567890123456789a"),
        .init("leading zeros in sizes", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
        .init("CR and LF inside chunk data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
        .init("extension without value", "5;last\r\nhello\r\n0\r\n\r\n", "hello"),
        .init("extensions with token and quoted values", "5;a=1;b=\"x;y=z\"\r\nhello\r\n0;done\r\n\r\n", "hello"),
        .init("extension whitespace (BWS)", "5 ; a = 1 ;b\t=\t\"q\"\r\nhello\r\n0\r\n\r\n", "hello"),
        .init("quoted-pair in extension", "5;a=\"x\\\"y\\\\\"\r\nhello\r\n0\r\n\r\n", "hello"),
        .init("trailer fields discarded", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Checksum:\tabc def \r\n\r\n", "hello"),
        .init("empty trailer value", "2\r\nhi\r\n0\r\nX-Empty:\r\n\r\n", "hi"),
    ]
}

@Suite struct ChunkedBodyDecoderTests {
    @Test(arguments: ValidChunkedBody.all)
    func decodesWholeBody(_ c: ValidChunkedBody) {
        #expect(ChunkedFeeding.whole(c.raw) == .init(result: .complete(consumed: c.raw.count), body: Array(c.body.utf8), consumed: c.raw.count))
    }

    @Test(arguments: ValidChunkedBody.all)
    func decodesBodyArrivingByteByByteIdentically(_ c: ValidChunkedBody) {
        #expect(ChunkedFeeding.byteByByte(c.raw) == ChunkedFeeding.whole(c.raw))
    }

    @Test(arguments: ValidChunkedBody.all)
    func decodesBodySplitAtEveryBoundaryIdentically(_ c: ValidChunkedBody) {
        let whole = ChunkedFeeding.whole(c.raw)
        for k in 1..<c.raw.count { #expect(ChunkedFeeding.split(c.raw, at: k) == whole, "split at \(k)") }
    }

    @Test(arguments: ValidChunkedBody.all)
    func stopsAtTheEndOfTheBodyWhenTheNextRequestFollows(_ c: ValidChunkedBody) {
        let next = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let outcome = ChunkedFeeding.whole(c.raw + next)
        #expect(outcome.result == .complete(consumed: c.raw.count))
        #expect(outcome.body == Array(c.body.utf8))
    }

    @Test func consumesPartOfAChunkAndAppendsWhatArrived() {
        var decoder = ChunkedBodyDecoder(), body: [UInt8] = []
        let first = Array("a\r\n01234".utf8)
        #expect(first.withUnsafeBytes { decoder.decode($0, into: &body) } == .needMoreData(consumed: first.count))
        #expect(body == Array("01234".utf8))
        #expect(decoder.decodedBytes == 5)
        let rest = Array("56789\r\n0\r\n\r\n".utf8)
        #expect(rest.withUnsafeBytes { decoder.decode($0, into: &body) } == .complete(consumed: rest.count))
        #expect(body == Array("0123456789".utf8))
        #expect(decoder.decodedBytes == 10)
    }

    @Test func decodedBytesLetsTheCallerStopAnOversizedBodyEarly() {
        var decoder = ChunkedBodyDecoder(), body: [UInt8] = []
        let raw = Array("ffffff\r\n".utf8) + [UInt8](repeating: 0x61, count: 1000)
        #expect(raw.withUnsafeBytes { decoder.decode($0, into: &body) } == .needMoreData(consumed: raw.count))
        #expect(decoder.decodedBytes == 1000)
    }

    @Test func largestSixteenDigitSizeIsAccepted() {
        #expect(ChunkedFeeding.whole(Array("7fffffffffffffff\r\n".utf8)).result == .needMoreData(consumed: 18))
    }

    @Test func answersCompleteWithNothingConsumedOnceDone() {
        var decoder = ChunkedBodyDecoder(), body: [UInt8] = []
        let raw = Array("0\r\n\r\nGET".utf8)
        #expect(raw.withUnsafeBytes { decoder.decode($0, into: &body) } == .complete(consumed: 5))
        #expect(raw[5...].withUnsafeBytes { decoder.decode($0, into: &body) } == .complete(consumed: 0))
    }

    static let invalidBodies: [(String, HTTPParseError)] = [
        ("\r\n", .invalidChunkSize),
        ("x\r\n", .invalidChunkSize),
        ("-5\r\n", .invalidChunkSize),
        ("+5\r\n", .invalidChunkSize),
        ("0x5\r\n", .invalidChunkSize),
        ("5x\r\n", .invalidChunkSize),
        (";a\r\n", .invalidChunkSize),
        ("00000000000000005\r\n", .invalidChunkSize),  // 17 digits
        ("8000000000000000\r\n", .invalidChunkSize),  // overflows Int
        ("5\nhello\r\n", .bareLF),
        ("5\rhello\r\n", .bareCR),
        ("5;a\nhello\r\n", .bareLF),
        ("5\r\nhelloX\r\n", .invalidChunkFraming),
        ("5\r\nhello\rX", .invalidChunkFraming),
        ("5\r\nhello\n0\r\n\r\n", .invalidChunkFraming),
        ("5\r\nhello\n", .invalidChunkFraming),
        ("5\r\nhello0\r\n\r\n", .invalidChunkFraming),
        ("5;\r\nhello\r\n", .invalidChunkExtension),
        ("5;=x\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=b=c\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=\"open\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=\"x\"y\r\nhello\r\n", .invalidChunkExtension),
        ("5;a b\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=\"\0\"\r\nhello\r\n", .invalidChunkExtension),
        ("0\r\nBad Field\r\n\r\n", .invalidHeaderName),
        ("0\r\nNoColon\r\n\r\n", .invalidHeaderName),
        ("0\r\n: v\r\n\r\n", .invalidHeaderName),
        ("0\r\nX-A : v\r\n\r\n", .whitespaceBeforeColon),
        ("0\r\nX-A: v\r\n folded\r\n\r\n", .obsoleteLineFolding),
        ("0\r\nX-A: a\0b\r\n\r\n", .invalidHeaderValue),
        ("0\r\nX-A: v\n\r\n", .bareLF),
        ("0\r\nX-A: v\rX\r\n", .bareCR),
        ("0\r\n\n", .bareLF),
        ("0\r\n\rX", .bareCR),
    ]

    @Test(arguments: invalidBodies)
    func refusesMalformedFraming(_ raw: String, _ error: HTTPParseError) {
        let bytes = Array(raw.utf8)
        #expect(ChunkedFeeding.whole(bytes).result == .invalid(error))
        #expect(ChunkedFeeding.byteByByte(bytes).result == .invalid(error))
        #expect(error.status.code == 400)
    }

    @Test func keepsRefusingAfterAnError() {
        var decoder = ChunkedBodyDecoder(), body: [UInt8] = []
        #expect(Array("z\r\n".utf8).withUnsafeBytes { decoder.decode($0, into: &body) } == .invalid(.invalidChunkSize))
        #expect(Array("0\r\n\r\n".utf8).withUnsafeBytes { decoder.decode($0, into: &body) } == .invalid(.invalidChunkSize))
    }

    /// A size line of `n` bytes before its CRLF: "1;" and an extension name padding it out.
    static func sizeLine(bytes n: Int) -> [UInt8] { Array(("1;" + String(repeating: "e", count: n - 2) + "\r\nx\r\n0\r\n\r\n").utf8) }

    @Test func sizeLineOfExactlyMaxChunkLineBytesPasses() {
        let outcome = ChunkedFeeding.whole(Self.sizeLine(bytes: 4_096))
        #expect(outcome.body == [0x78])
        #expect(outcome.result == .complete(consumed: Self.sizeLine(bytes: 4_096).count))
    }

    @Test func sizeLineOneByteOverTheBoundIsRefused() {
        #expect(ChunkedFeeding.whole(Self.sizeLine(bytes: 4_097)).result == .invalid(.chunkExtensionTooLong))
        #expect(ChunkedFeeding.byteByByte(Self.sizeLine(bytes: 4_097)).result == .invalid(.chunkExtensionTooLong))
    }

    /// A last chunk whose trailer section, final CRLF included, is exactly `n` bytes.
    static func trailers(bytes n: Int) -> [UInt8] {
        let head = "0\r\nX-T: ", tail = "\r\n\r\n"
        return Array((head + String(repeating: "t", count: n - (head.utf8.count - 3) - tail.utf8.count) + tail).utf8)
    }

    @Test func trailerSectionOfExactlyMaxTrailerBytesPasses() {
        let raw = Self.trailers(bytes: 16_384)
        #expect(raw.count == 3 + 16_384)
        #expect(ChunkedFeeding.whole(raw).result == .complete(consumed: raw.count))
    }

    @Test func trailerSectionOneByteOverTheBoundIs431() {
        #expect(ChunkedFeeding.whole(Self.trailers(bytes: 16_385)).result == .invalid(.trailersTooLarge))
        #expect(HTTPParseError.trailersTooLarge.status.code == 431)
    }

    @Test func smallerConfiguredLimitsAreHonoured() {
        let limits = HTTPParserLimits(maxChunkLineBytes: 3, maxTrailerBytes: 8)
        #expect(ChunkedFeeding.whole(Array("1;a\r\nx\r\n0\r\nA: b\r\n\r\n".utf8), limits: limits).result == .complete(consumed: 19))
        #expect(ChunkedFeeding.whole(Array("1;ab\r\nx\r\n".utf8), limits: limits).result == .invalid(.chunkExtensionTooLong))
        #expect(ChunkedFeeding.whole(Array("0\r\nA: bc\r\n\r\n".utf8), limits: limits).result == .invalid(.trailersTooLarge))
    }
}

@Suite struct ChunkedEncodingTests {
    @Test func chunkPrefixesLowercaseHexSizeAndEndsWithCRLF() {
        #expect(ChunkedEncoding.chunk(Array("hello".utf8)) == Array("5\r\nhello\r\n".utf8))
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        #expect(ChunkedEncoding.chunk(alphabet) == Array("1a\r\n".utf8) + alphabet + [0x0D, 0x0A])
        #expect(ChunkedEncoding.chunk([UInt8](repeating: 0, count: 4_096)).prefix(6) == Array("1000\r\n".utf8)[...])
    }

    @Test func emptyInputGivesNoChunkRatherThanALastChunk() {
        #expect(ChunkedEncoding.chunk([]) == [])
    }

    @Test func lastChunkEndsTheBodyWithEmptyTrailers() {
        #expect(ChunkedEncoding.lastChunk == Array("0\r\n\r\n".utf8))
    }

    @Test func encodedChunksDecodeToTheOriginalBytes() {
        let pieces: [[UInt8]] = [Array("{\"a\":".utf8), [], [UInt8](repeating: 0x7A, count: 300), Array("}".utf8)]
        let wire = pieces.flatMap(ChunkedEncoding.chunk) + ChunkedEncoding.lastChunk
        let outcome = ChunkedFeeding.byteByByte(wire)
        #expect(outcome.result == .complete(consumed: wire.count))
        #expect(outcome.body == pieces.flatMap { $0 })
    }
}
