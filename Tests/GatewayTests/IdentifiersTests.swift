import Testing
@testable import Gateway

@Suite struct IdentifiersTests {
    @Test func requestIDsAreUniqueWellFormedAndOrderedByTime() {
        let ids = (0..<10_000).map { Identifiers.requestId(now: 1_700_000_000_000 + Int64($0 / 100)) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.hasPrefix("req_") && $0.utf8.count == 32 && $0.dropFirst(4).allSatisfy(\.isHexDigit) })
        #expect(Identifiers.requestId(now: 1) < Identifiers.requestId(now: 2))
    }
}

@Suite struct HexFormattingTests {
    @Test func lowDigitsZeroPadded() {
        #expect(Identifiers.hex(0xabc, digits: 6) == "000abc")
        #expect(Identifiers.hex(0x1_2345_6789, digits: 4) == "6789")
        #expect(Identifiers.hex(.max, digits: 16) == "ffffffffffffffff")
        #expect(Identifiers.hex(0, digits: 12) == "000000000000")
    }
}
