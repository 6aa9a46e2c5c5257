import JSON
import Postgres

/// SQL over `jobs` and `pending_writes` on PostgreSQL. Every function runs inside the caller's
/// transaction (or read).
///
/// Row locks, by who takes them: a submit holds FOR KEY SHARE on an already due job until it
/// commits; a claim takes FOR NO KEY UPDATE with SKIP LOCKED (it does not wait for submits, which
/// KEY SHARE allows); a job write of a run holds FOR SHARE (`holdLease`: no claim takes the job
/// until it commits); an idle release takes FOR UPDATE, so it waits for every submit in flight
/// on the job and then sees their operations.
enum PostgresJobRecords {
    static let key = "merchant_id = $1 AND resource = $2"

    /// Makes the job due at `due` (or keeps an earlier due time), in the transaction that queues
    /// an operation. A job already due is not locked against other submits (concurrent submits of
    /// one merchant do not queue behind each other), only share-locked against an idle release,
    /// which would otherwise end the job's due time without seeing this operation.
    ///
    /// Answers whether the job became due (or sooner) by it: only then is it news to a scheduler.
    /// A job already due was announced when it became so, and a job that is running (leased)
    /// finds this operation when it is released (`lockForRelease`).
    @discardableResult
    static func markDue(_ job: ClaimedJobKey, at due: Int64, in db: PostgresConnection) async throws -> Bool {
        // A purge of the idle job may delete the row between two statements: then insert again.
        for _ in 0..<3 {
            if let becameDue = markedDue(try await db.pipeline(markDueStatements(job, at: due))) { return becameDue }
        }
        throw StoreInconsistency(description: "the job \(job.merchantId)/\(job.resource) kept disappearing while it was made due")
    }

    /// `markDue`'s statements, which need no answer in between (a pipeline): insert the job due
    /// at `due`; else share-lock its row, and make it due now if it is idle or backing off (the
    /// UPDATE's condition; no release is in flight: only a claimed job is released, and a claim
    /// needs it due). The UPDATE locks the row only when it changes it.
    /// `refusing`: a row purged in between raises `PostgresSchema.Refusal.jobVanished` instead.
    static func markDueStatements(_ job: ClaimedJobKey, at due: Int64, refusing: Bool = false) -> [PostgresStatement] {
        let parameters: [PostgresValue] = [.text(job.merchantId), .text(job.resource), .int64(due)]
        let lock = "SELECT 1 FROM jobs WHERE \(key) FOR KEY SHARE"
        return [
            PostgresStatement(
                "INSERT INTO jobs (merchant_id, resource, due_at) VALUES ($1, $2, $3) ON CONFLICT (merchant_id, resource) DO NOTHING", parameters),
            PostgresStatement(
                refusing ? "SELECT gateway_require(count(*) = 1, '\(PostgresSchema.Refusal.jobVanished.code)', 'the job vanished') FROM (\(lock)) AS j" : lock,
                Array(parameters.prefix(2))),
            PostgresStatement("UPDATE jobs SET due_at = $3 WHERE \(key) AND (due_at IS NULL OR due_at > $3)", parameters),
        ]
    }

    /// What `markDueStatements` (their results, in order) did: nil when the job's row was purged
    /// between the INSERT and the lock (nothing was made due: run them again); else whether the
    /// job became due by them (inserted, or its due time moved earlier) rather than was due already.
    static func markedDue(_ results: [PostgresQueryResult]) -> Bool? {
        guard results.count == 3, results[0].affected == 1 || !results[1].rows.isEmpty else { return nil }
        return results[0].affected == 1 || results[2].affected == 1
    }

    static let claimable = "due_at IS NOT NULL AND due_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1)"

    /// `AND (merchant_id, resource) NOT IN (($k, $k+1), …)` for `busy`, with its parameters.
    private static func excluding(_ busy: Set<ClaimedJobKey>, from first: Int) -> (sql: String, parameters: [PostgresValue]) {
        guard !busy.isEmpty else { return ("", []) }
        let jobs = Array(busy)
        let pairs = jobs.indices.map { "($\(first + 2 * $0), $\(first + 2 * $0 + 1))" }.joined(separator: ", ")
        return (" AND (merchant_id, resource) NOT IN (\(pairs))", jobs.flatMap { [PostgresValue.text($0.merchantId), .text($0.resource)] })
    }

    /// Leases up to `limit` due jobs whose lease is over (none or expired) to `owner`, earliest
    /// due first, each with the next lease epoch. The rows are picked in a CTE with SKIP LOCKED
    /// (a LIMIT inside an UPDATE's locking subquery may be re-evaluated and lease more).
    static func claim(
        owner: String, now: Int64, leaseUntil: Int64, limit: Int, excluding busy: Set<ClaimedJobKey>, in db: PostgresConnection
    ) async throws -> [(job: ClaimedJob, epoch: Int64)] {
        let (notBusy, busyParameters) = excluding(busy, from: 5)
        let rows = try await db.query(
            """
            WITH picked AS (
                SELECT merchant_id, resource FROM jobs WHERE \(claimable)\(notBusy)
                ORDER BY due_at LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED)
            UPDATE jobs j SET lease_owner = $3, lease_expires_at = $4, lease_epoch = j.lease_epoch + 1
            FROM picked WHERE j.merchant_id = picked.merchant_id AND j.resource = picked.resource
            RETURNING j.merchant_id, j.resource, j.attempts, j.lease_epoch, j.due_at
            """, [.int64(now), .int(limit), .text(owner), .int64(leaseUntil)] + busyParameters
        ).rows
        return try rows.map { row in
            let job = ClaimedJob(merchantId: try row.string("merchant_id"), resource: try row.string("resource"), attempts: try row.int("attempts"), leaseUntil: leaseUntil)
            return (job: job, epoch: try row.int64("lease_epoch"), due: try row.int64("due_at"))
        }
        .sorted { $0.due < $1.due }
        .map { (job: $0.job, epoch: $0.epoch) }
    }

    static func hasClaimable(now: Int64, excluding busy: Set<ClaimedJobKey>, in db: PostgresConnection) async throws -> Bool {
        let (notBusy, busyParameters) = excluding(busy, from: 2)
        return try await !db.query("SELECT 1 FROM jobs WHERE \(claimable)\(notBusy) LIMIT 1", [.int64(now)] + busyParameters).rows.isEmpty
    }

    /// Extends `owner`'s lease (of that epoch when known); false when it holds none any more.
    static func renew(_ job: ClaimedJobKey, owner: String, epoch: Int64?, leaseUntil: Int64, in db: PostgresConnection) async throws -> Bool {
        var parameters: [PostgresValue] = [.text(job.merchantId), .text(job.resource), .text(owner), .int64(leaseUntil)]
        if let epoch { parameters.append(.int64(epoch)) }
        return try await db.query(
            "UPDATE jobs SET lease_expires_at = $4 WHERE \(key) AND lease_owner = $3" + (epoch == nil ? "" : " AND lease_epoch = $5"), parameters
        ).affected == 1
    }

    /// Fencing: holds the job's row (FOR SHARE: no claim takes it until this transaction ends)
    /// if `lease` is still its lease; false when another claim took it since.
    static func holdLease(_ job: ClaimedJobKey, _ lease: JobLease, in db: PostgresConnection) async throws -> Bool {
        try await !db.query(
            "SELECT 1 FROM jobs WHERE \(key) AND lease_owner = $3 AND lease_epoch = $4 FOR SHARE",
            [.text(job.merchantId), .text(job.resource), .text(lease.owner), .int64(lease.epoch)]
        ).rows.isEmpty
    }

    /// Locks the job's row FOR UPDATE (after every submit in flight on it) and answers its lease.
    static func lockForRelease(_ job: ClaimedJobKey, in db: PostgresConnection) async throws -> JobLease? {
        guard let row = try await db.query("SELECT lease_owner, lease_epoch FROM jobs WHERE \(key) FOR UPDATE", [.text(job.merchantId), .text(job.resource)]).rows.first,
            let owner = try row.optionalString("lease_owner")
        else { return nil }
        return JobLease(owner: owner, epoch: try row.int64("lease_epoch"))
    }

    /// Hands the job back: due again at `dueAt` (nil: nothing left to do), with `attempts` for backoff.
    static func release(_ job: ClaimedJobKey, dueAt: Int64?, attempts: Int, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE jobs SET due_at = $3, attempts = $4, lease_owner = NULL, lease_expires_at = NULL WHERE \(key)",
            [.text(job.merchantId), .text(job.resource), .nullable(dueAt), .int(attempts)])
    }

    /// Clean shutdown: every lease of `owner` goes back, due as it was.
    static func releaseAll(owner: String, in db: PostgresConnection) async throws {
        _ = try await db.query("UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1", [.text(owner)])
    }

    /// The earliest due time of an unleased job, to sleep until (a dead replica's expired lease is
    /// found by the scheduler's poll, at most a second later).
    static func nextDue(in db: PostgresConnection) async throws -> Int64? {
        try await db.query("SELECT MIN(due_at) AS due FROM jobs WHERE due_at IS NOT NULL AND lease_owner IS NULL").rows.first?.optionalInt64("due")
    }

    /// Work that arrived while a job ran: a queued operation of that job.
    static func hasQueued(_ job: ClaimedJobKey, in db: PostgresConnection) async throws -> Bool {
        try await !db.query(
            "SELECT 1 FROM operations WHERE \(key) AND state = 'queued' LIMIT 1", [.text(job.merchantId), .text(job.resource)]
        ).rows.isEmpty
    }

    // MARK: Pending writes

    static func pendingWrite(_ job: ClaimedJobKey, in db: PostgresConnection) async throws -> PendingWrite? {
        try await db.query(
            """
            SELECT operation_ids, plan, method, path, body, idempotency_key, created_at, upstream_operation_id
            FROM pending_writes WHERE \(key)
            """, [.text(job.merchantId), .text(job.resource)]
        ).rows.first.map { row in
            PendingWrite(
                merchantId: job.merchantId, resource: job.resource,
                operationIds: try JSON.decode([String].self, from: Array(try row.string("operation_ids").utf8)),
                plan: Array(try row.string("plan").utf8), method: try row.string("method"), path: try row.string("path"),
                body: try row.optionalBytes("body"), idempotencyKey: try row.string("idempotency_key"), createdAt: try row.int64("created_at"),
                upstreamOperationId: try row.optionalString("upstream_operation_id"))
        }
    }

    static func insertPendingWrite(_ write: PendingWrite, in db: PostgresConnection) async throws {
        _ = try await db.query(
            """
            INSERT INTO pending_writes (merchant_id, resource, operation_ids, plan, method, path, body, idempotency_key, created_at, upstream_operation_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            [
                .text(write.merchantId), .text(write.resource), .text(OperationRecords.json(write.operationIds)),
                .text(String(decoding: write.plan, as: UTF8.self)), .text(write.method), .text(write.path), .nullable(write.body),
                .text(write.idempotencyKey), .int64(write.createdAt), .nullable(write.upstreamOperationId),
            ])
    }

    static func setUpstreamOperation(_ id: String, of job: ClaimedJobKey, in db: PostgresConnection) async throws {
        _ = try await db.query(
            "UPDATE pending_writes SET upstream_operation_id = $3 WHERE \(key)", [.text(job.merchantId), .text(job.resource), .text(id)])
    }

    static func deletePendingWrite(_ job: ClaimedJobKey, in db: PostgresConnection) async throws {
        _ = try await db.query("DELETE FROM pending_writes WHERE \(key)", [.text(job.merchantId), .text(job.resource)])
    }
}
