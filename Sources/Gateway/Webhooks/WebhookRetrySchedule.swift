/// The delays between delivery attempts (WEBHOOK_RETRY_SCHEDULE), e.g. the default
/// `0s,5s,5m,30m,2h,5h,10h,10h` (Standard Webhooks' recommendation):
///
/// | attempt | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 |
/// |---|---|---|---|---|---|---|---|---|
/// | after the previous one (± jitter) | at once | 5 s | 5 min | 30 min | 2 h | 5 h | 10 h | 10 h |
///
/// Entry 0 is the delay before the first attempt; a delivery failing all of them is `failed`
/// (about 28 h after its event by default). Each later delay is spread by ±`jitter` so
/// that an endpoint coming back is not hit by every retry at the same instant.
public struct WebhookRetrySchedule: Sendable, Equatable {
    public var delays: [Duration]
    /// Fraction of each delay added or removed at random (0.2: ±20 %).
    public var jitter: Double

    public static let `default` = WebhookRetrySchedule(
        delays: [.zero, .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000), .seconds(36_000)],
        jitter: 0.2)

    public init(delays: [Duration], jitter: Double = 0.2) {
        self.delays = delays
        self.jitter = jitter
    }

    /// Parses `0s,5s,5m,30m,2h` (units `ms`, `s`, `m`, `h`; 1 to 50 entries, each at most 7 days).
    public init(parsing text: String, jitter: Double = 0.2) throws(ScheduleError) {
        var delays: [Duration] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(raw).trimmingHTTPWhitespace()
            guard let delay = Self.duration(item), delay <= .seconds(7 * 86_400)
            else { throw ScheduleError(message: "\"\(item)\" is not a delay like 0s, 500ms, 5m or 2h (at most 7 days)") }
            delays.append(delay)
        }
        guard (1...50).contains(delays.count) else { throw ScheduleError(message: "must list between 1 and 50 delays") }
        self.init(delays: delays, jitter: jitter)
    }

    /// `500ms`, `5s`, `5m`, `2h`, `5d`: a non-negative whole number and a unit.
    public static func duration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let amount = Int64(text.dropLast(suffix.count)), amount >= 0, amount <= Int64.max / scale else { continue }
            return .milliseconds(amount * scale)
        }
        return nil
    }

    public struct ScheduleError: Error, Sendable { public let message: String }

    /// How many attempts a delivery gets.
    public var maxAttempts: Int { delays.count }

    /// The delay before attempt `attempt + 1` (attempts made so far: `attempt`), jittered;
    /// nil when the attempts are used up.
    public func delay(afterAttempts attempts: Int, using random: inout some RandomNumberGenerator) -> Duration? {
        guard attempts < delays.count else { return nil }
        let base = Double(delays[attempts].milliseconds)
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter), using: &random) : 1
        return .milliseconds(Int64((base * factor).rounded()))
    }
}
