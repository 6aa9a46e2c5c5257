/// Rokt's `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, read against our
/// wall clock and capped, so a far-future date cannot stop us for days.
public enum RetryAfter {
    /// The wait the header asks for, between zero and `cap`; nil when it is absent or unreadable.
    public static func parse(_ value: String?, nowMillis: Int64, cap: Duration) -> Duration? {
        guard let raw = value?.trimmingHTTPWhitespace(), !raw.isEmpty else { return nil }
        let wait: Duration
        if raw.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            wait = .seconds(Int(raw) ?? Int.max / 2_000_000_000)
        } else if let date = httpDateMillis(raw) {
            wait = .milliseconds(max(0, date - nowMillis))
        } else {
            return nil
        }
        return min(wait, cap)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Milliseconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
    /// form senders must use; the obsolete forms are not read (the caller falls back).
    static func httpDateMillis(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int(parts[1]), (1...31).contains(day),
            let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        return (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
