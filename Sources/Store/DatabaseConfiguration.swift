import Synchronization

/// The limits and timeouts of a `Database`; every one has a default fit for the gateway.
public struct DatabaseConfiguration: Sendable {
    /// How long a write waits for the lock another process holds (a `rokt-gateway keys` CLI
    /// run, a backup) before failing with `busy`; also how long a reader waits during recovery.
    public var busyTimeout: Duration = .seconds(5)
    /// Reader connections, each on its own thread: how many reads run at once.
    public var readerCount: Int = 2
    /// At most this many writes share one transaction (one fsync).
    public var maxBatchSize: Int = 256
    /// A batch stops taking more writes this long after its BEGIN, so the first write of a
    /// batch is not held back by a long stream of later ones.
    public var maxBatchDuration: Duration = .milliseconds(10)
    /// Writes waiting for the writer beyond this many are refused with `overloaded`.
    public var maxQueuedWrites: Int = 10_000
    /// Reads waiting for a reader beyond this many are refused with `overloaded`.
    public var maxQueuedReads: Int = 10_000
    /// Prepared statements kept per connection.
    public var statementCacheCapacity: Int = 256
    /// Create the database file's directory (and its parents, mode 0700) when missing.
    public var createsParentDirectory: Bool = true

    public init() {}

    func validate() throws {
        func require(_ condition: Bool, _ what: String) throws {
            if !condition { throw StoreError.misuse("invalid database configuration: \(what)") }
        }
        try require(readerCount >= 1, "readerCount must be at least 1")
        try require(maxBatchSize >= 1, "maxBatchSize must be at least 1")
        try require(maxQueuedWrites >= 1, "maxQueuedWrites must be at least 1")
        try require(maxQueuedReads >= 1, "maxQueuedReads must be at least 1")
        try require(statementCacheCapacity >= 1, "statementCacheCapacity must be at least 1")
        try require(busyTimeout >= .zero, "busyTimeout must not be negative")
    }

    func connectionConfiguration(queryOnly: Bool) -> SQLiteConnection.Configuration {
        .init(busyTimeout: busyTimeout, statementCacheCapacity: statementCacheCapacity, queryOnly: queryOnly)
    }
}

/// Counters the Store threads bump and `Database.statistics` reads; relaxed atomics because
/// each is an independent tally.
final class StoreCounters: Sendable {
    let commits = Atomic<Int>(0)
    let committedWrites = Atomic<Int>(0)
    let failedWrites = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
}
