import Testing
@testable import HTTP

/// Inputs the fuzz targets (fuzz/targets) found, reduced; each crashing input is also kept in
/// fuzz/corpus/<target>/. The answer to a request may not depend on how its bytes were split.
struct FuzzRegressionTests {
    static let smallTarget = HTTPParserLimits(maxRequestTargetBytes: 8)

    /// A too-long target followed by a framing error: 414 whether the bytes came whole or one by
    /// one (whole, the bare LF or CR used to win; in pieces, the 414 came first).
    @Test(arguments: [
        "GET /aaaaaaaaaaaa\n",  // no second space, then a bare LF
        "GET /aaaaaaaaaaaa HTTP/1.1\nHost: a\r\n\r\n",  // target ended, bare LF before the line's CR
        "GET /aaaaaaaaaaaa\rX",  // bare CR
        "\r\nGET /AXX\u{1E}\u{1E}XXXXXXrray HTTPArray\nHw:443 HTTP/1.1\r\n\r\n",
    ])
    func tooLongTargetIsRefusedTheSameWholeOrSplit(_ text: String) {
        let raw = Array(text.utf8)
        let whole = HeadFeeding.whole(HTTPRequestHeadParser.self, raw, limits: Self.smallTarget)
        let split = HeadFeeding.byteByByte(HTTPRequestHeadParser.self, raw, limits: Self.smallTarget).result
        #expect(whole == .invalid(.targetTooLong))
        #expect(split == whole)
    }
}
