import Postgres
import Synchronization

/// The gateway's store on PostgreSQL, shared by any number of gateway replicas: every protocol
/// of `GatewayStore` over the `Postgres*Records` SQL, through a bounded pool.
///
/// Commit notices travel by NOTIFY on one channel (`PostgresCommitPayload`), sent once the
/// transaction that causes them has committed (`PostgresNoticeSender`); this instance's
/// observers get them straight after COMMIT returns. Job leases are fenced: see `LeaseLost`.
final class PostgresGatewayStore: GatewayStore {
    let pool: PostgresPool
    /// Names this instance in its notices, so its own listener skips them.
    let storeId: String
    let commits = CommitBroadcast()
    let listener: PostgresCommitListener
    let noticeSender: PostgresNoticeSender
    /// The lease each claim or renewal by this instance gave a job, checked by its job writes.
    let leases = Mutex<[ClaimedJobKey: JobLease]>([:])

    private init(pool: PostgresPool, storeId: String) {
        self.pool = pool
        self.storeId = storeId
        listener = PostgresCommitListener(configuration: pool.configuration, storeId: storeId, broadcast: commits)
        noticeSender = PostgresNoticeSender(pool: pool)
    }

    /// Connects, migrates (under the migration lock, so replicas may start together) and starts
    /// listening for other replicas' notices. Throws `PostgresSchemaTooNew` for a database a newer
    /// release migrated.
    static func open(configuration: PostgresConfiguration, poolOptions: PostgresPoolOptions) async throws -> PostgresGatewayStore {
        let pool = PostgresPool(configuration: configuration, options: poolOptions)
        do {
            try await PostgresMigrator.migrate(pool)
        } catch {
            await pool.close()
            throw error
        }
        let store = PostgresGatewayStore(pool: pool, storeId: "store_" + String(UInt64.random(in: 0...UInt64.max), radix: 16))
        await store.listener.start()
        return store
    }

    func schemaVersion() async throws -> Int {
        try await read { db in try await PostgresMigrator.version(on: db) }
    }

    func close() async {
        await listener.stop()
        await pool.close()
    }

    func observe(_ observer: @escaping @Sendable (StoreCommit) -> Void) -> CommitObservation {
        commits.observe(observer)
    }

    var replicasWorking: Int { listener.replicasWorking }

    func ping() async throws {
        _ = try await read { db in try await db.query("SELECT 1") }
    }

    // MARK: Transactions

    /// Runs `body` in one transaction; once it has committed, the notices it appended are
    /// published to this process's observers and sent to the other replicas (`noticeSender`). A
    /// transaction that failed only because of concurrency (serialization failure, deadlock)
    /// runs again, at most 3 times.
    func transaction<T: Sendable>(_ body: (PostgresConnection, PostgresCommitNotices) async throws -> T) async throws -> T {
        let notices = PostgresCommitNotices()
        return try await retrying {
            let value = try await pool.withTransaction { db in
                _ = notices.take()
                return try await body(db, notices)
            }
            return (value, notices.take())
        }
    }

    /// One transaction in one round trip, for a write whose statements do not depend on each
    /// other's results: BEGIN, `statements` and COMMIT in one pipeline. A statement that must stop
    /// the write raises (`gateway_require`): the server skips the rest, COMMIT included, and the
    /// error is rethrown after a ROLLBACK. `answer` reads the committed statements' results and
    /// gives the value and the notices of the commit, as a `transaction` body appends them;
    /// retried like it.
    func pipelinedTransaction<T: Sendable>(
        _ statements: [PostgresStatement], answer: ([PostgresQueryResult]) throws -> (T, notices: [StoreCommit])
    ) async throws -> T {
        try await retrying {
            try await pool.withConnection { db in
                do {
                    let results = try await db.pipeline([PostgresStatement("BEGIN")] + statements + [PostgresStatement("COMMIT")])
                    if results.last?.commandTag == "ROLLBACK" { throw PostgresPoolError.rolledBack }
                    return try answer(Array(results.dropFirst().dropLast()))
                } catch {
                    // A dead connection has rolled back on the server already; it is dropped on release.
                    if !db.isClosed && db.transactionStatus != .idle { _ = try? await db.simpleQuery("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    /// Runs `attempt` (a transaction answering its value and the notices of its commit) again
    /// after a serialization failure or deadlock, at most 3 times; then publishes and sends them.
    private func retrying<T: Sendable>(_ attempt: () async throws -> (T, [StoreCommit])) async throws -> T {
        var attempts = 1
        while true {
            do {
                let (value, sent) = try await attempt()
                for commit in sent { commits.publish(commit) }
                noticeSender.send(sent.flatMap { PostgresCommitPayload.encode($0, from: storeId) })
                return value
            } catch let error as PostgresError where error.sqlState.isRetryable && attempts < 3 {
                attempts += 1
            }
        }
    }

    /// A read on a pooled connection, outside any transaction (each statement sees what was
    /// committed when it started).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}

/// The lease a claim gave: its owner and the job's claim count then (`jobs.lease_epoch`).
struct JobLease: Sendable, Equatable {
    var owner: String
    var epoch: Int64
}

/// Another replica took the job: the lease this instance's claim gave has passed (it expired and
/// was claimed again). Thrown by the job's writes (`renew`, `release`, `begin`, `abandon`,
/// `deletePendingWrite`, `countAttempt`, `setUpstreamOperation`, `finish` of the job), whose
/// transaction is rolled back: nothing of that write is kept, and the run must stop.
struct LeaseLost: Error, Equatable, CustomStringConvertible {
    let job: ClaimedJobKey
    let owner: String

    var description: String {
        "the lease of \(owner) on the job \(job.merchantId)/\(job.resource) passed to another owner; the write was rolled back"
    }
}
