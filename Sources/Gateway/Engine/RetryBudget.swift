import Synchronization

/// Retries toward Rokt are at most `percent` % of first attempts over a sliding `window` (but
/// `minimumPerWindow` are always allowed), as Envoy's retry budget and gRPC's retry throttling
/// do: when Rokt fails, retries cannot multiply the load on it. A retry over budget is deferred,
/// never failed: its job stays due and runs once the window has room.
public struct RetryBudgetSettings: Sendable, Equatable {
    /// 0 turns the budget off.
    public var percent: Int
    public var minimumPerWindow: Int
    public var window: Duration

    public init(percent: Int = 20, minimumPerWindow: Int = 10, window: Duration = .seconds(10)) {
        self.percent = percent
        self.minimumPerWindow = minimumPerWindow
        self.window = window
    }

    public static let off = RetryBudgetSettings(percent: 0)
}

/// The retry budget's bookkeeping, with no I/O: first attempts and retries counted in ten
/// buckets spanning the window, on an injected monotonic clock.
struct RetryBudget {
    static let buckets = 10

    let settings: RetryBudgetSettings
    private let origin: ContinuousClock.Instant
    /// (bucket number, first attempts, retries), oldest first, at most `buckets` of them.
    private var counts: [(bucket: Int64, firsts: Int, retries: Int)] = []

    init(_ settings: RetryBudgetSettings, origin: ContinuousClock.Instant) {
        self.settings = settings
        self.origin = origin
    }

    /// A job run that is no retry has started.
    mutating func recordFirstAttempt(now: ContinuousClock.Instant) {
        guard settings.percent > 0 else { return }
        let bucket = self.bucket(now)
        prune(bucket)
        if counts.last?.bucket == bucket { counts[counts.count - 1].firsts += 1 } else { counts.append((bucket, 1, 0)) }
    }

    /// Whether a retry may run now; when it may, it is counted.
    mutating func allowRetry(now: ContinuousClock.Instant) -> Bool {
        guard settings.percent > 0 else { return true }
        let bucket = self.bucket(now)
        prune(bucket)
        let firsts = counts.reduce(0) { $0 + $1.firsts }
        let retries = counts.reduce(0) { $0 + $1.retries }
        guard retries < max(settings.minimumPerWindow, firsts * settings.percent / 100) else { return false }
        if counts.last?.bucket == bucket { counts[counts.count - 1].retries += 1 } else { counts.append((bucket, 0, 1)) }
        return true
    }

    /// How long a deferred retry should wait: until the oldest bucket leaves the window (at least 10 ms).
    func deferral(now: ContinuousClock.Instant) -> Duration {
        let width = bucketWidth
        guard let oldest = counts.first else { return width }
        let leaves = origin + width * Int(oldest.bucket + Int64(Self.buckets))
        return max(.milliseconds(10), leaves - now)
    }

    private var bucketWidth: Duration { max(.milliseconds(1), settings.window / Self.buckets) }

    private func bucket(_ now: ContinuousClock.Instant) -> Int64 {
        let elapsed = now - origin
        return Int64(max(0, elapsed.milliseconds) / max(1, bucketWidth.milliseconds))
    }

    private mutating func prune(_ current: Int64) {
        counts.removeAll { $0.bucket <= current - Int64(Self.buckets) }
    }
}

/// The engine's retry budget behind a lock, with the count of deferred retries for `/metrics`.
final class LockedRetryBudget: Sendable {
    private let budget: Mutex<RetryBudget>
    private let exhausted = Atomic<Int>(0)

    init(_ settings: RetryBudgetSettings, origin: ContinuousClock.Instant) { budget = Mutex(RetryBudget(settings, origin: origin)) }

    /// Counts a run: nil when it may go, else how long to defer it.
    func admit(isRetry: Bool, now: ContinuousClock.Instant) -> Duration? {
        let deferral = budget.withLock { budget -> Duration? in
            guard isRetry else {
                budget.recordFirstAttempt(now: now)
                return nil
            }
            return budget.allowRetry(now: now) ? nil : budget.deferral(now: now)
        }
        if deferral != nil { exhausted.add(1, ordering: .relaxed) }
        return deferral
    }

    /// Retries deferred because the budget was spent.
    var exhaustedCount: Int { exhausted.load(ordering: .relaxed) }
}
