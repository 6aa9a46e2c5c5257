import Postgres
import Synchronization

/// Sends this store's commit notices to the other replicas with NOTIFY once the transactions that
/// caused them have committed: what accumulates while one NOTIFY runs goes in the next, one
/// statement for all (a repeated payload once).
///
/// Not inside those transactions: PostgreSQL takes a database-wide lock for a transaction that
/// notified, from the start of its commit until the commit is flushed, so notifying writes commit
/// one fsync at a time (no group commit). Here the NOTIFY commits alone, with synchronous_commit
/// off (a notice is a hint: one lost to a crash is covered by the engine's polling, as are those
/// sent while a replica's listener reconnects), so it holds that lock only briefly.
final class PostgresNoticeSender: Sendable {
    private struct State {
        var pending: [String] = []
        var sending = false
    }

    /// Payloads per statement (each is a parameter).
    static let batchLimit = 500

    private let pool: PostgresPool
    private let state = Mutex(State())

    init(pool: PostgresPool) { self.pool = pool }

    func send(_ payloads: [String]) {
        guard !payloads.isEmpty else { return }
        let start = state.withLock { state -> Bool in
            state.pending += payloads
            if state.sending { return false }
            state.sending = true
            return true
        }
        if start { Task { await drain() } }
    }

    /// Sends until nothing is pending; a failed NOTIFY is dropped (the store may be closing).
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [String] in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.sending = false }
                return state.pending
            }
            guard !batch.isEmpty else { return }
            var seen = Set<String>()
            let unique = batch.filter { seen.insert($0).inserted }
            for start in stride(from: 0, to: unique.count, by: Self.batchLimit) {
                let statement = Self.statement(Array(unique[start..<min(unique.count, start + Self.batchLimit)]))
                _ = try? await pool.withConnection { db in try await db.query(statement.sql, statement.parameters) }
            }
        }
    }

    /// `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2), pg_notify($1, $3)…`.
    static func statement(_ payloads: [String]) -> PostgresStatement {
        let calls = payloads.indices.map { "pg_notify($1, $\($0 + 2))" }.joined(separator: ", ")
        return PostgresStatement(
            "SELECT set_config('synchronous_commit', 'off', true), \(calls)", [.text(PostgresCommitPayload.channel)] + payloads.map { .text($0) })
    }
}
