import Postgres
import Synchronization

/// The gateway's store on PostgreSQL, shared by any number of gateway replicas: every protocol
/// of `GatewayStore` over the `Postgres*Records` SQL, through a bounded pool.
///
/// Commit notices travel by NOTIFY on one channel (`PostgresCommitPayload`), sent inside the
/// transaction that causes them, so every replica hears them once it commits; this instance's
/// observers get them straight after COMMIT returns. Job leases are fenced: see `LeaseLost`.
final class PostgresGatewayStore: GatewayStore {
    let pool: PostgresPool
    /// Names this instance in its notices, so its own listener skips them.
    let storeId: String
    let commits = CommitBroadcast()
    let listener: PostgresCommitListener
    /// The lease each claim or renewal by this instance gave a job, checked by its job writes.
    let leases = Mutex<[ClaimedJobKey: JobLease]>([:])

    private init(pool: PostgresPool, storeId: String) {
        self.pool = pool
        self.storeId = storeId
        listener = PostgresCommitListener(configuration: pool.configuration, storeId: storeId, broadcast: commits)
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

    func ping() async throws {
        _ = try await read { db in try await db.query("SELECT 1") }
    }

    // MARK: Transactions

    /// Runs `body` in one transaction; the notices it appends are sent with NOTIFY before COMMIT
    /// and published to this process's observers after it. A transaction that failed only
    /// because of concurrency (serialization failure, deadlock) runs again, at most 3 times.
    func transaction<T: Sendable>(_ body: (PostgresConnection, PostgresCommitNotices) async throws -> T) async throws -> T {
        let notices = PostgresCommitNotices()
        var attempt = 1
        while true {
            do {
                let (value, sent) = try await pool.withTransaction { db in
                    _ = notices.take()
                    let value = try await body(db, notices)
                    let sent = notices.take()
                    try await notify(sent, on: db)
                    return (value, sent)
                }
                for commit in sent { commits.publish(commit) }
                return value
            } catch let error as PostgresError where error.sqlState.isRetryable && attempt < 3 {
                attempt += 1
            }
        }
    }

    /// A read on a pooled connection, outside any transaction (each statement sees what was
    /// committed when it started).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }

    /// One statement for every payload: `SELECT pg_notify($1, $2), pg_notify($1, $3)…`.
    private func notify(_ commits: [StoreCommit], on db: PostgresConnection) async throws {
        let payloads = commits.flatMap { PostgresCommitPayload.encode($0, from: storeId) }
        guard !payloads.isEmpty else { return }
        let calls = payloads.indices.map { "pg_notify($1, $\($0 + 2))" }.joined(separator: ", ")
        _ = try await db.query("SELECT \(calls)", [.text(PostgresCommitPayload.channel)] + payloads.map { .text($0) })
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
