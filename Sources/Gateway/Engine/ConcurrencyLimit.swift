/// How many jobs the engine runs at once, adapted to how long a read-modify-write round takes
/// (additive increase, multiplicative decrease on round-time inflation, as TCP Vegas does).
///
/// Why: more concurrent rounds only help while rounds wait on Rokt. When rounds start taking
/// longer than the fastest recent ones, the extra concurrency is queueing for something shared
/// (the CPU, the database writer, or Rokt itself slowing down): fewer concurrent rounds then lose
/// nothing, each merges more queued operations into its one GET and PUT, and the CPU goes to
/// accepting callers. With a fast, idle machine and a slow remote Rokt, rounds do not inflate
/// and the limit stays at its maximum. Pure: the engine feeds it round times.
struct ConcurrencyLimit: Sendable {
    let minimum: Int
    let maximum: Int
    /// A round slower than this many times the baseline counts as inflated.
    let tolerance: Double
    /// A baseline window ends after this many rounds or this much time, whichever comes first;
    /// the baseline is the fastest round of the last two windows, so it follows a lasting change
    /// (say, Rokt becoming slower) within two windows, even while few rounds run.
    let window: Int
    let windowDuration: Duration

    private(set) var limit: Double
    private var currentWindowFastest: Double = .infinity
    private var previousWindowFastest: Double = .infinity
    private var samplesInWindow = 0
    private var windowStart: ContinuousClock.Instant?

    init(minimum: Int, maximum: Int, tolerance: Double = 2, window: Int = 256, windowDuration: Duration = .seconds(10)) {
        self.minimum = max(1, min(minimum, maximum))
        self.maximum = max(1, maximum)
        self.tolerance = tolerance
        self.window = max(1, window)
        self.windowDuration = windowDuration
        limit = Double(self.maximum)
    }

    /// The number of jobs that may run now.
    var current: Int { Int(limit) }

    /// The fastest recent round (the no-contention estimate), in seconds; nil before any round.
    var baseline: Double? {
        let fastest = min(currentWindowFastest, previousWindowFastest)
        return fastest.isFinite ? fastest : nil
    }

    /// One finished round that took `round`, ending at `now`.
    mutating func record(round: Duration, at now: ContinuousClock.Instant) {
        let seconds = max(Double(round.components.seconds) + Double(round.components.attoseconds) / 1e18, 1e-6)
        currentWindowFastest = min(currentWindowFastest, seconds)
        samplesInWindow += 1
        let start = windowStart ?? now
        windowStart = start
        if samplesInWindow >= window || now - start >= windowDuration {
            previousWindowFastest = currentWindowFastest
            currentWindowFastest = .infinity
            samplesInWindow = 0
            windowStart = now
        }
        guard let baseline else { return }
        if seconds > tolerance * baseline {
            limit = max(Double(minimum), limit * 0.95)
        } else {
            limit = min(Double(maximum), limit + 1 / limit)
        }
    }
}
