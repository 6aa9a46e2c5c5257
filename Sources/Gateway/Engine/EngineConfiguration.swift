/// The engine's bounds; every one is explicit and has a documented default.
public struct EngineConfiguration: Sendable {
    /// Jobs (merchant × resource) worked on at once: at most `maxConcurrentJobs`, fewer (down to
    /// `minConcurrentJobs`) while rounds take much longer than the fastest recent ones
    /// (see `ConcurrencyLimit`): then each round merges more operations instead.
    public var maxConcurrentJobs = 32
    public var minConcurrentJobs = 1
    /// At most this many queued operations are merged into one read-modify-write.
    public var maxBatch = 1000
    /// When operations keep arriving for a job while its previous write runs, its next round waits
    /// this long to gather more of them into one write (the first round never waits).
    public var coalescingWindow: Duration = .milliseconds(5)
    /// The shortest time between two looks for due jobs. A submit that makes a job due wakes the
    /// scheduler (on PostgreSQL every replica's): spacing the looks turns a burst of wake-ups into
    /// one claim of many jobs instead of a query per submit on each replica.
    public var schedulingInterval: Duration = .milliseconds(2)
    /// How long a claimed job is ours before another worker may take it (a crashed process's jobs return).
    public var lease: Duration = .seconds(60)
    /// 409 answers to our own PUT (someone else wrote between our GET and PUT) before giving up.
    public var maxConflictRetries = 5
    /// Re-issues of a status PUT whose cascade came back `mixed`, before `cascade_incomplete`.
    public var maxCascadeRetries = 2
    /// An idempotency key older than this is never re-sent: the change is re-read and started over
    /// (Rokt keeps keys 24 h).
    public var keyMaxAge: Duration = .seconds(23 * 3600)
    public var retry = RetryPolicy()
    /// Retries (runs of a job that failed before) at most a share of first attempts (ROKT_RETRY_BUDGET_*).
    public var retryBudget = RetryBudgetSettings()
    /// Polling an upstream `X-Operation-Id`: first interval, cap, and how long one job run polls
    /// before handing the job back (it resumes polling later, never re-sending).
    public var pollInterval: Duration = .milliseconds(100)
    public var maxPollInterval: Duration = .seconds(5)
    public var pollBudget: Duration = .seconds(30)
    /// Queued operations the engine accepts before answering 503 (backpressure).
    public var maxQueuedOperations = 100_000
    /// Sleeping, the monotonic clock, randomness and the log (the system's unless injected).
    public var runtime = EngineRuntime()

    public init() {}
}
