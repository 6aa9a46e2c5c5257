/// How many jobs the engine runs at once, adapted to how long a read-modify-write round takes
/// (additive increase, multiplicative decrease on round-time inflation, as TCP Vegas does). The
/// engine feeds it the time from a round's start to its first answer from Rokt (the store work
/// and the GET): the part of a round that does not grow with the operations it merges, so that a
/// round merging 500 operations is not taken for contention (it made a drain after a burst run
/// one job at a time on an idle machine).
///
/// Why: more concurrent rounds only help while rounds wait on Rokt. When rounds start taking
/// longer than the fastest recent ones, the extra concurrency is queueing for something shared
/// (the CPU, the database writer, or Rokt itself slowing down): fewer concurrent rounds then lose
/// nothing, each merges more queued operations into its one GET and PUT, and the CPU goes to
/// accepting callers. With a fast, idle machine and a slow remote Rokt, rounds do not inflate
/// and the limit stays at its maximum. Pure: the engine feeds it those times and its runs' starts and ends.
///
/// The limit is the deployment's, not each replica's. With `replicas` replicas working on one
/// shared store, each sees a `replicas`th of the rounds, so each grows by a `replicas`th of one
/// replica's step and shrinks by the 5 % `replicas` times over (0.95^N) on an inflated round: the
/// replicas' total then moves, round for round, as one replica's limit would (with one replica's
/// steps each, N replicas settled at √N times one replica's limit between them, the increases
/// adding up N times over and each decrease cutting only its own replica). Each may go down to
/// `minimum / replicas` jobs; below one job a replica runs one job part of the time, resting
/// between its rounds (`pause(after:)`), so that under overload three replicas run no more rounds
/// at once than one would (each round merges as much).
///
/// The limit binds the runs already going too, not only the next launches: a run lasts up to 16
/// rounds, so without that the runs launched at the start of a load (at the maximum) went on for
/// seconds after the limit had fallen, each merging a few operations a round. A run whose round
/// ends while more runs are going than the limit allows hands its slot back (`afterRound`).
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

    /// The factor an inflated round shrinks the limit by: 0.95 for one replica, 0.95^N for each of N.
    static func decrease(replicas: Int) -> Double { (0..<max(1, replicas)).reduce(1.0) { product, _ in product * 0.95 } }

    /// The longest rest between two rounds of a job while the limit is below one job.
    static let maximumPause: Duration = .seconds(1)

    private(set) var limit: Double
    /// Replicas of the deployment working lately, this one included (1: alone).
    private(set) var replicas = 1
    /// Job runs going (started and not ended).
    private(set) var runs = 0
    /// Runs told to end after their round (`.handOver`) that have not ended yet.
    private(set) var handingOver = 0
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

    /// The number of jobs that may run now (one, part of the time, below one job).
    var current: Int { max(1, Int(limit)) }

    /// The lowest the limit goes: this replica's share of the deployment's minimum.
    var floor: Double { Double(minimum) / Double(replicas) }

    /// How long a job rests after a round that took `round` while the limit is below one job:
    /// the rest of a cycle in which it works `limit` of the time.
    func pause(after round: Duration) -> Duration {
        guard limit < 1 else { return .zero }
        return min(round * (1 / limit - 1), Self.maximumPause)
    }

    /// Replicas working on the store lately (this one included).
    mutating func set(replicas count: Int) {
        replicas = max(1, count)
        limit = max(limit, floor)
    }

    /// Runs that may start now: the limit less the runs going (those handing over included, until they end).
    var free: Int { max(0, current - runs) }

    /// A job run started.
    mutating func runStarted() { runs += 1 }

    /// A job run ended; `handedOver`: it ended because `afterRound` told it to.
    mutating func runEnded(handedOver: Bool) {
        runs = max(0, runs - 1)
        if handedOver { handingOver = max(0, handingOver - 1) }
    }

    /// What a run does after the round it just `record`ed: hand its slot back when more runs are
    /// going than the limit allows (those already handing over not counted, so only the excess
    /// ends), else go on, resting first while the limit is below one job.
    mutating func afterRound(_ round: Duration) -> AfterRound {
        if runs - handingOver > current {
            handingOver += 1
            return .handOver
        }
        return .goOn(resting: pause(after: round))
    }

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
            limit = max(floor, limit * Self.decrease(replicas: replicas))
        } else {
            // Additive: one job per limit's worth of rounds, a replicas'th of it each (the
            // deployment's total grows by one job per total's worth of rounds, below one job per
            // replica too: a slower step there left N replicas well below one replica's total).
            limit = min(Double(maximum), limit + 1 / (Double(replicas) * limit))
        }
    }
}

/// What a job run does after a read-modify-write round (`ConcurrencyLimit.afterRound`).
enum AfterRound: Equatable, Sendable {
    /// Start the next round, after resting this long (zero unless the limit is below one job).
    case goOn(resting: Duration)
    /// End the run now, its job left due: more runs are going than the limit allows.
    case handOver
}
