import Testing
@testable import Postgres

/// timestamptz: microseconds since 2000-01-01 UTC; text as printed with DateStyle ISO.
@Suite struct PostgresTimestampTests {
    static func parse(_ text: String) -> Int64? { PostgresTimestamp(isoText: text)?.microsecondsSince2000 }

    @Test func textAroundThe2000Epoch() {
        #expect(Self.parse("2000-01-01 00:00:00+00") == 0)
        #expect(Self.parse("1999-12-31 23:59:59.999999+00") == -1)
        #expect(Self.parse("2000-01-01 00:00:00.000001+00") == 1)
        #expect(Self.parse("2000-01-01 01:00:00+01") == 0)
        #expect(Self.parse("1970-01-01 00:00:00+00") == -946_684_800_000_000)
    }

    // Expected values computed with Python's datetime, independently of this code.
    @Test func textWithFractionsAndOffsets() {
        #expect(Self.parse("2026-12-05 07:24:30.5+05:30") == 849_750_870_500_000)
        #expect(Self.parse("1969-07-20 20:17:40.123+00") == -960_867_739_877_000)
        // Local mean time zones print second offsets.
        #expect(Self.parse("1883-11-18 12:00:00-04:56:02") == -3_664_335_838_000_000)
        #expect(Self.parse("2024-02-29 00:00:00+00") != nil)
    }

    @Test func textBeforeTheCommonEra() {
        #expect(Self.parse("0001-01-01 00:00:00+00") == -730_119 * 86_400_000_000)
        // 1 BC is the year before 1 AD (astronomical year 0, a leap year).
        #expect(Self.parse("0001-12-31 00:00:00+00 BC") == -730_120 * 86_400_000_000)
        #expect(Self.parse("0001-02-29 00:00:00+00 BC") != nil)
    }

    @Test func infinities() {
        #expect(PostgresTimestamp(isoText: "infinity") == .infinity)
        #expect(PostgresTimestamp(isoText: "-infinity") == .negativeInfinity)
        #expect(PostgresTimestamp.infinity.unixMicroseconds == .max)
    }

    @Test func malformedTextIsNil() {
        for text in [
            "", "2000-01-01", "2000-01-01 00:00:00", "2000-13-01 00:00:00+00", "2000-02-30 00:00:00+00", "2023-02-29 00:00:00+00", "2000-01-01T00:00:00+00",
            "2000-01-01 24:00:00+00", "2000-01-01 00:00:00.1234567+00", "2000-01-01 00:00:00+00 AD", "0000-01-01 00:00:00+00", "999999-01-01 00:00:00+00",
            "2000-01-01 00:00:00+0", "Sat Dec 05 07:24:30 2026 UTC",
        ] {
            #expect(PostgresTimestamp(isoText: text) == nil, "\(text)")
        }
    }

    @Test func unixConversionIsOffsetBy946684800Seconds() {
        #expect(PostgresTimestamp(unixMicroseconds: 0)?.microsecondsSince2000 == -946_684_800_000_000)
        #expect(PostgresTimestamp(microsecondsSince2000: 0).unixMicroseconds == 946_684_800_000_000)
        #expect(PostgresTimestamp(unixMicroseconds: .min) == nil)
    }
}
