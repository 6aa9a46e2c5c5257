/// One reader connection of a `Database`, on its own thread. Each read runs in a deferred
/// transaction, so a body that queries twice sees one consistent snapshot, and in WAL mode it
/// never waits for the writer (nor the writer for it).
final class SnapshotReader {
    private let connection: SQLiteConnection
    private let queue: BlockingQueue<ConnectionJob>
    private let counters: StoreCounters

    init(connection: SQLiteConnection, queue: BlockingQueue<ConnectionJob>, counters: StoreCounters) {
        self.connection = connection
        self.queue = queue
        self.counters = counters
    }

    /// Runs until the queue is closed and drained.
    func run() {
        while let job = queue.take() {
            do {
                try connection.run("BEGIN DEFERRED")
            } catch {
                job.fail(error)
                continue
            }
            let outcome = job.run(connection)
            // An unfinished SELECT would keep the snapshot (and pin the WAL against checkpoints).
            connection.resetUnfinishedStatements()
            var endError: (any Error)?
            do { try connection.run("COMMIT") } catch { endError = error }
            connection.rollbackIfOpen()
            counters.reads.add(1, ordering: .relaxed)
            outcome.finish(endError)
        }
    }
}
