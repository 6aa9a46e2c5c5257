import Testing

@testable import Postgres

/// A caller writes its own request on a plain socket while the session is idle (a hop to the
/// session's event loop fewer per query); the driver writes under TLS, after a deadline, and
/// whatever the socket did not take. Every path answers each caller its own result.
@Suite(.serialized) struct PostgresDirectSendTests {
    private static func directSends(_ connection: PostgresConnection) -> Int { connection.state.guarded.withLock { $0.directSends } }

    @Test func onAPlainSocketCallersWriteTheirOwnQueriesWhileTheSessionIsIdle() async throws {
        let connection = try await PostgresConnectionTests.connect()
        _ = try await connection.query("SELECT 1")
        let before = Self.directSends(connection)
        for n in 0..<50 { #expect(try await connection.query("SELECT $1::int8 AS n", [.int64(Int64(n))]).rows[0]["n"] == .int64(Int64(n))) }
        #expect(Self.directSends(connection) - before == 50)
        // A query with a deadline goes through the driver, which enforces it.
        _ = try await connection.query("SELECT 1", timeout: .seconds(5))
        #expect(Self.directSends(connection) - before == 50)
        await connection.close()
    }

    @Test func underTLSTheDriverWritesEverything() async throws {
        let connection = try await PostgresConnectionTests.connect { $0.sslMode = .require }
        for _ in 0..<10 { _ = try await connection.query("SELECT 1") }
        #expect(Self.directSends(connection) == 0)
        await connection.close()
    }

    /// Direct and queued requests interleave (a query with a deadline always queues): each
    /// caller still gets its own answer. Once, the driver took a queued request ahead of one a
    /// caller had just written, and two callers swapped answers.
    @Test func concurrentCallersEachGetTheirOwnAnswer() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<3 {
                group.addTask {
                    var wrong = 0
                    for n in 0..<1_500 {
                        let value = Int64(task * 1000 + n)
                        let timeout: Duration? = (task + n) % 3 == 0 ? .seconds(30) : nil
                        let answer = try await connection.query("SELECT $1::int8 AS n", [.int64(value)], timeout: timeout).rows[0]["n"]
                        if answer != .int64(value) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(Self.directSends(connection) > 0)
        #expect(connection.transactionStatus == .idle)
        await connection.close()
    }

    @Test func aRequestLargerThanTheSocketTakesIsFinishedByTheDriver() async throws {
        let connection = try await PostgresConnectionTests.connect()
        _ = try await connection.query("SELECT 1")
        // 8 MiB: more than a loopback socket's send buffer takes at once.
        let big = String(repeating: "x", count: 8 << 20)
        let length = try await connection.query("SELECT length($1) AS n", [.text(big)]).rows[0]["n"]
        #expect(length?.int64 == Int64(big.utf8.count))
        #expect(try await connection.query("SELECT 2 AS n").rows[0]["n"]?.int64 == 2)
        await connection.close()
    }

    @Test func aCallerWritingWhileTheServerEndsTheSessionHearsWhy() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let killer = try await PostgresConnectionTests.connect()
        _ = try await killer.query("SELECT pg_terminate_backend($1)", [.int32(connection.processID)])
        await #expect(throws: (any Error).self) {
            for _ in 0..<20 { _ = try await connection.query("SELECT 1") }
        }
        #expect(connection.isClosed)
        await killer.close()
        await connection.close()
    }
}
