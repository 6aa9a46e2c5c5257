import ChildProcess
import Synchronization
import Testing

@testable import Postgres

/// The pool against the throwaway cluster: bound, reuse, transactions, reconnects, timeouts.
@Suite(.serialized) struct PostgresPoolTests {
    static func pool(_ edit: (inout PostgresPoolOptions) -> Void = { _ in }) async throws -> PostgresPool {
        var configuration = try PostgresConfiguration(connectionString: try await TemporaryCluster.shared().url)
        configuration.sslMode = .disable
        var options = PostgresPoolOptions()
        edit(&options)
        return PostgresPool(configuration: configuration, options: options)
    }

    static func backend(_ connection: PostgresConnection) async throws -> Int64 {
        try await connection.query("SELECT pg_backend_pid()").rows[0][0].int64 ?? -1
    }

    @Test func neverOpensMoreThanTheMaximumAndReusesSessions() async throws {
        let pool = try await Self.pool { $0.maximumConnections = 2 }
        final class Tally: Sendable {
            struct Counts { var seen: Set<Int64> = []; var busy = 0; var most = 0 }
            let counts = Mutex(Counts())
            func withLock<T>(_ body: (inout Counts) -> T) -> T { counts.withLock { body(&$0) } }
        }
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await pool.withConnection { connection in
                        tally.withLock {
                            $0.busy += 1; $0.most = max($0.most, $0.busy)
                        }
                        let pid = try await Self.backend(connection)
                        _ = try await connection.query("SELECT pg_sleep(0.02)")
                        tally.withLock {
                            $0.busy -= 1; _ = $0.seen.insert(pid)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(tally.withLock { $0.most } <= 2)
        #expect(tally.withLock { $0.seen.count } == 2)
        #expect(pool.statistics.open == 2 && pool.statistics.idle == 2)
        await pool.close()
    }

    @Test func appliesTheSessionSettingsToEveryConnection() async throws {
        let pool = try await Self.pool { $0.sessionSettings = ["statement_timeout": "1234ms", "application_name": "it's pooled"] }
        let (timeout, name) = try await pool.withConnection { connection in
            (try await connection.query("SHOW statement_timeout").rows[0][0].string, try await connection.query("SHOW application_name").rows[0][0].string)
        }
        #expect(timeout == "1234ms" && name == "it's pooled")
        await pool.close()
    }

    @Test func aTransactionCommitsOrRollsBackWithItsBody() async throws {
        let pool = try await Self.pool()
        let table = "pool_tx_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await pool.withConnection { try await $0.simpleQuery("CREATE TABLE \(table) (n int)") }
        _ = try await pool.withTransaction { try await $0.query("INSERT INTO \(table) VALUES (1)") }
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await pool.withTransaction { connection in
                _ = try await connection.query("INSERT INTO \(table) VALUES (2)")
                throw Refused()
            }
        }
        // A statement failed inside and its error was swallowed: the server answers COMMIT with ROLLBACK.
        await #expect(throws: PostgresPoolError.rolledBack) {
            try await pool.withTransaction { connection in
                _ = try await connection.query("INSERT INTO \(table) VALUES (3)")
                _ = try? await connection.query("SELECT 1/0")
            }
        }
        let rows = try await pool.withConnection { try await $0.query("SELECT n FROM \(table) ORDER BY n").rows.map { $0[0].int64 } }
        #expect(rows == [1])
        _ = try await pool.withConnection { try await $0.simpleQuery("DROP TABLE \(table)") }
        await pool.close()
    }

    @Test func aConnectionLeftInATransactionIsNotReused() async throws {
        let pool = try await Self.pool { $0.maximumConnections = 1 }
        let first = try await pool.withConnection { connection in
            _ = try await connection.simpleQuery("BEGIN")
            return try await Self.backend(connection)
        }
        let second = try await pool.withConnection { connection in
            #expect(connection.transactionStatus == .idle)
            return try await Self.backend(connection)
        }
        #expect(first != second)
        await pool.close()
    }

    @Test func reconnectsAfterTheServerEndsASession() async throws {
        let pool = try await Self.pool {
            $0.maximumConnections = 1; $0.healthCheckAfterIdle = .zero
        }
        let victim = try await pool.withConnection { try await Self.backend($0) }
        let killer = try await Self.pool()
        try await killer.withConnection { _ = try await $0.query("SELECT pg_terminate_backend($1::int)", [.int64(victim)]) }
        await killer.close()
        // The idle connection is checked before reuse: the caller never sees the dead one.
        let fresh = try await pool.withConnection { try await Self.backend($0) }
        #expect(fresh != victim)
        #expect(pool.statistics.open == 1)
        await pool.close()
    }

    @Test func aWaiterTimesOutWhenEveryConnectionStaysBusy() async throws {
        let pool = try await Self.pool {
            $0.maximumConnections = 1; $0.acquireTimeout = .milliseconds(200)
        }
        try await pool.withConnection { _ in
            await #expect(throws: PostgresPoolError.acquireTimedOut(.milliseconds(200))) {
                try await pool.withConnection { _ in }
            }
        }
        // The slot is still good afterwards.
        #expect(try await pool.withConnection { try await $0.query("SELECT 1::int8").rows[0][0].int64 } == 1)
        await pool.close()
    }

    /// One task times every waiter out, and only while someone waits (a timer task per wait cost
    /// two thread wake-ups per query under load).
    @Test func oneTaskTimesOutEveryWaiterAndEndsWhenNobodyWaits() async throws {
        let pool = try await Self.pool {
            $0.maximumConnections = 1; $0.acquireTimeout = .milliseconds(300)
        }
        try await pool.withConnection { _ in
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do { try await pool.withConnection { _ in }; return false } catch { return error as? PostgresPoolError == .acquireTimedOut(.milliseconds(300)) }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: true, count: 20))
        }
        #expect(pool.waiterTiming.started == 1)
        #expect(await eventually { !pool.waiterTiming.running })
        // Waiters served in time are not failed afterwards; a new wait starts a new task.
        let served = try await pool.withConnection { _ in
            let waiter = Task { try await pool.withConnection { try await $0.query("SELECT 1::int8").rows[0][0].int64 } }
            #expect(await eventually { pool.statistics.waiting == 1 })
            return waiter
        }
        #expect(try await served.value == 1)
        #expect(pool.waiterTiming.started == 2)
        await pool.close()
    }

    @Test func closingFailsWaitersAndLaterCalls() async throws {
        let pool = try await Self.pool { $0.maximumConnections = 1 }
        try await pool.withConnection { _ in
            let waiter = Task { try await pool.withConnection { _ in } }
            #expect(await eventually { pool.statistics.waiting == 1 })
            await pool.close()
            await #expect(throws: PostgresPoolError.closed) { try await waiter.value }
        }
        await #expect(throws: PostgresPoolError.closed) { try await pool.withConnection { _ in } }
        #expect(pool.statistics.open == 0)
    }
}
