import Store

/// SQL over `jobs` and `pending_writes`.
enum JobRecords {
    /// Makes the job due now (or keeps an earlier due time); called in the transaction that queues an operation.
    static func markDue(merchantId: String, resource: String, at due: Int64, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO jobs (merchant_id, resource, due_at) VALUES (?, ?, ?)
            ON CONFLICT (merchant_id, resource) DO UPDATE SET due_at = MIN(COALESCE(due_at, excluded.due_at), excluded.due_at)
            """, [merchantId, resource, due])
    }

    /// Leases up to `limit` due, unleased jobs to `owner` until `leaseUntil`.
    static func claim(
        owner: String, now: Int64, leaseUntil: Int64, limit: Int, excluding busy: Set<ClaimedJobKey>,
        in db: SQLiteConnection
    ) throws -> [ClaimedJob] {
        let rows = try db.query(
            """
            SELECT merchant_id, resource, attempts FROM jobs
            WHERE due_at IS NOT NULL AND due_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
            ORDER BY due_at LIMIT ?
            """, [now, now, limit + busy.count])
        var claimed: [ClaimedJob] = []
        for row in rows {
            let job = ClaimedJob(merchantId: try row.get(0), resource: try row.get(1), attempts: try row.get(2), leaseUntil: leaseUntil)
            if busy.contains(ClaimedJobKey(job)) || claimed.count >= limit { continue }
            try db.run(
                "UPDATE jobs SET lease_owner = ?, lease_expires_at = ? WHERE merchant_id = ? AND resource = ?",
                [owner, leaseUntil, job.merchantId, job.resource])
            claimed.append(job)
        }
        return claimed
    }

    /// Whether `claim` would find anything (checked on a reader before taking the writer).
    static func hasClaimable(now: Int64, excluding busy: Set<ClaimedJobKey>, in db: SQLiteConnection) throws -> Bool {
        let rows = try db.query(
            """
            SELECT merchant_id, resource FROM jobs
            WHERE due_at IS NOT NULL AND due_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
            ORDER BY due_at LIMIT ?
            """, [now, now, busy.count + 1])
        return try rows.contains { !busy.contains(ClaimedJobKey(merchantId: try $0.get(0), resource: try $0.get(1))) }
    }

    static func renew(_ job: ClaimedJob, owner: String, leaseUntil: Int64, in db: SQLiteConnection) throws {
        try db.run(
            "UPDATE jobs SET lease_expires_at = ? WHERE merchant_id = ? AND resource = ? AND lease_owner = ?",
            [leaseUntil, job.merchantId, job.resource, owner])
    }

    /// Hands the job back: due again at `dueAt` (nil: nothing left to do), with `attempts` for backoff.
    static func release(_ job: ClaimedJob, dueAt: Int64?, attempts: Int, in db: SQLiteConnection) throws {
        try db.run(
            """
            UPDATE jobs SET due_at = ?, attempts = ?, lease_owner = NULL, lease_expires_at = NULL
            WHERE merchant_id = ? AND resource = ?
            """, [dueAt, attempts, job.merchantId, job.resource])
    }

    /// Clean shutdown: every lease of `owner` goes back, due at once.
    static func releaseAll(owner: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?", [owner])
    }

    /// At start, leases of processes that no longer exist are void (the database lock proves it).
    static func releaseForeignLeases(owner: String, in db: SQLiteConnection) throws -> Int {
        try db.run("UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL AND lease_owner != ?", [owner])
    }

    /// The earliest due time of an unleased job, to sleep until.
    static func nextDue(in db: SQLiteConnection) throws -> Int64? {
        try db.query("SELECT MIN(due_at) FROM jobs WHERE due_at IS NOT NULL AND lease_owner IS NULL").first?.get(0, as: Int64?.self)
    }

    // MARK: Pending writes

    static func pendingWrite(merchantId: String, resource: String, in db: SQLiteConnection) throws -> PendingWrite? {
        try db.query(
            """
            SELECT operation_ids, plan, method, path, body, idempotency_key, created_at, upstream_operation_id
            FROM pending_writes WHERE merchant_id = ? AND resource = ?
            """, [merchantId, resource]
        ).first.map { row in
            PendingWrite(
                merchantId: merchantId, resource: resource,
                operationIds: try JSON.decode([String].self, from: Array(try row.get(0, as: String.self).utf8)),
                plan: Array(try row.get(1, as: String.self).utf8), method: try row.get(2), path: try row.get(3),
                body: try row.get(4, as: [UInt8]?.self), idempotencyKey: try row.get(5), createdAt: try row.get(6),
                upstreamOperationId: try row.get(7, as: String?.self))
        }
    }

    static func insertPendingWrite(_ write: PendingWrite, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO pending_writes (merchant_id, resource, operation_ids, plan, method, path, body, idempotency_key, created_at, upstream_operation_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                write.merchantId, write.resource, OperationRecords.json(write.operationIds), String(decoding: write.plan, as: UTF8.self),
                write.method, write.path, write.body, write.idempotencyKey, write.createdAt, write.upstreamOperationId,
            ])
    }

    static func setUpstreamOperation(_ id: String, merchantId: String, resource: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE pending_writes SET upstream_operation_id = ? WHERE merchant_id = ? AND resource = ?", [id, merchantId, resource])
    }

    static func deletePendingWrite(merchantId: String, resource: String, in db: SQLiteConnection) throws {
        try db.run("DELETE FROM pending_writes WHERE merchant_id = ? AND resource = ?", [merchantId, resource])
    }
}
