/// A timestamptz: microseconds since 2000-01-01 00:00:00 UTC, the server's own representation
/// and its binary wire form (datatype-datetime; integer datetimes, the only kind since
/// PostgreSQL 10). `infinity` and `-infinity` are Int64.max and Int64.min, as in the server.
public struct PostgresTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSince2000: Int64

    public init(microsecondsSince2000: Int64) { self.microsecondsSince2000 = microsecondsSince2000 }

    public static let infinity = PostgresTimestamp(microsecondsSince2000: .max)
    public static let negativeInfinity = PostgresTimestamp(microsecondsSince2000: .min)

    /// Seconds from 1970-01-01 to 2000-01-01 (10,957 days).
    static let unixOffsetMicroseconds: Int64 = 946_684_800_000_000

    /// nil when the instant lies beyond what the server's Int64 can hold.
    public init?(unixMicroseconds: Int64) {
        let (value, overflow) = unixMicroseconds.subtractingReportingOverflow(Self.unixOffsetMicroseconds)
        guard !overflow else { return nil }
        microsecondsSince2000 = value
    }

    /// Microseconds since 1970-01-01 UTC; the infinities stay at the Int64 bounds.
    public var unixMicroseconds: Int64 {
        if self == .infinity || self == .negativeInfinity { return microsecondsSince2000 }
        let (value, overflow) = microsecondsSince2000.addingReportingOverflow(Self.unixOffsetMicroseconds)
        return overflow ? (microsecondsSince2000 > 0 ? .max : .min) : value
    }

    public static func < (a: PostgresTimestamp, b: PostgresTimestamp) -> Bool { a.microsecondsSince2000 < b.microsecondsSince2000 }

    public var description: String { "PostgresTimestamp(\(microsecondsSince2000) µs since 2000-01-01 UTC)" }

    /// Parses timestamptz as the server prints it with `DateStyle = ISO` (datatype-datetime
    /// §"Date/Time Output"): `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]][ BC]`, the year possibly
    /// longer than four digits, or `infinity` / `-infinity`. nil for anything else.
    public init?(isoText text: String) {
        if text == "infinity" {
            self = .infinity
            return
        }
        if text == "-infinity" {
            self = .negativeInfinity
            return
        }
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4, maxDigits: 6), scanner.skip("-"),
            let month = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip("-"),
            let day = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip(" "),
            let hour = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip(":"),
            let minute = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip(":"),
            let second = scanner.number(minDigits: 2, maxDigits: 2)
        else { return nil }
        var micros: Int64 = 0
        if scanner.skip(".") {
            // 1 to 6 fraction digits, padded: ".5" is 500000 µs.
            let start = scanner.index
            guard let fraction = scanner.number(minDigits: 1, maxDigits: 6) else { return nil }
            micros = fraction
            for _ in 0..<(6 - (scanner.index - start)) { micros *= 10 }
        }
        guard let sign = scanner.sign(), let offsetHours = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
        var offsetSeconds = offsetHours * 3600
        if scanner.skip(":") {
            guard let minutes = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
            offsetSeconds += minutes * 60
            if scanner.skip(":") {  // historical zones (LMT) have second offsets
                guard let seconds = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                offsetSeconds += seconds
            }
        }
        // Year 1 BC is astronomical year 0 (there is no year 0 in the printed form).
        let isBC = scanner.skip(" BC")
        guard scanner.atEnd, year >= 1, (1...12).contains(month), (1...Self.daysIn(month: month, year: isBC ? 1 - year : year)).contains(day),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let days = Self.daysFrom2000(year: isBC ? 1 - year : year, month: month, day: day)
        let localSeconds = days * 86_400 + hour * 3600 + minute * 60 + second
        let utcSeconds = localSeconds - sign * offsetSeconds
        // The server's range ends in 294276 AD; a six-digit year beyond it would overflow.
        let (scaled, overflow) = utcSeconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow, scaled < Int64.max - micros else { return nil }
        microsecondsSince2000 = scaled + micros
    }

    /// Days from 2000-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    static func daysFrom2000(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468 - 10_957
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Reads the fixed-width decimal fields of a date/time text.
private struct DigitScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
        var value: Int64 = 0
        var count = 0
        while index < bytes.count, count < maxDigits, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
            count += 1
        }
        return count >= minDigits ? value : nil
    }

    mutating func skip(_ literal: String) -> Bool {
        let expected = Array(literal.utf8)
        guard bytes.count - index >= expected.count, Array(bytes[index..<(index + expected.count)]) == expected else { return false }
        index += expected.count
        return true
    }

    /// +1 or -1 for a '+' or '-' here.
    mutating func sign() -> Int64? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}
