/// Time, chance and the log as the engine sees them: the system's by default; tests inject their
/// own, so coalescing windows, poll intervals and retry jitter are decided without real waiting.
public struct EngineRuntime: Sendable {
    /// Waits (the coalescing window, the interval between polls); throws when the run is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// A monotonic clock: round durations and the poll budget are measured on it.
    public var monotonicNow: @Sendable () -> ContinuousClock.Instant
    /// 64 random bits per call: the jitter of retry delays is drawn from it.
    public var random: @Sendable () -> UInt64
    /// Where errors the engine recovers from are reported, with the operation ids they touched.
    public var logger: Logger

    public init(
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        monotonicNow: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        random: @escaping @Sendable () -> UInt64 = {
            var system = SystemRandomNumberGenerator(); return system.next()
        },
        logger: Logger = Logger()
    ) {
        self.sleep = sleep
        self.monotonicNow = monotonicNow
        self.random = random
        self.logger = logger
    }
}

/// A `RandomNumberGenerator` over the runtime's random source (what `RetryPolicy.delay` draws from).
struct InjectedRandom: RandomNumberGenerator {
    let source: @Sendable () -> UInt64
    mutating func next() -> UInt64 { source() }
}
