import Foundation
import Store
import Synchronization
import Testing

/// Durable writes per second through `Database.write`, one small row per write, at several
/// numbers of concurrent writers; against the floor of one fsync'd commit per row.
///
/// Disabled unless STORE_BENCH=1; run it in release with `bench/store.sh`.
/// STORE_BENCH_SECONDS sets the length of each run (default 3).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["STORE_BENCH"] == "1", "set STORE_BENCH=1 to run"))
struct StoreBenchmark {
    static let seconds = Double(ProcessInfo.processInfo.environment["STORE_BENCH_SECONDS"] ?? "") ?? 3
    static let migrations = [
        Migration(
            version: 1, name: "bench",
            sql: """
                CREATE TABLE operations (
                    id INTEGER PRIMARY KEY,
                    merchant_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
    ]

    @Test func durableWritesPerSecond() async throws {
        print("Store benchmark: \(Self.seconds) s per run, synchronous=FULL, WAL, one row per write")
        print(try baseline())
        print("writers | rows/s  | commits/s | rows/commit | p50 ms | p99 ms")
        for writers in [1, 16, 64, 256] {
            print(try await groupCommit(writers: writers))
        }
    }

    /// One autocommitted INSERT per row on a plain connection: one fsync each.
    private func baseline() throws -> String {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file())
        try Migrator(Self.migrations).migrate(connection)
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        let started = ContinuousClock.now
        var rows = 0
        while ContinuousClock.now < deadline {
            try connection.run(
                "INSERT INTO operations (merchant_id, payload, created_at) VALUES (?, ?, ?)",
                ["merchant-\(rows % 100)", #"{"type":"controls.add_vertical","vertical":1504}"#, rows])
            rows += 1
        }
        let elapsed = (ContinuousClock.now - started).seconds
        return "baseline: one commit per row on one connection: \(Int(Double(rows) / elapsed)) rows/s"
    }

    private func groupCommit(writers: Int) async throws -> String {
        let directory = TemporaryDirectory()
        let database = try Database.open(path: directory.file(), migrations: Self.migrations)
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var latencies: [Duration] = []
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        let begin = ContinuousClock.now
                        let created = sequence
                        try await database.write { connection in
                            try connection.run(
                                "INSERT INTO operations (merchant_id, payload, created_at) VALUES (?, ?, ?)",
                                ["merchant-\(writer % 100)", #"{"type":"controls.add_vertical","vertical":1504}"#, created])
                        }
                        latencies.append(ContinuousClock.now - begin)
                        sequence += 1
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [Duration]()) { $0 += $1 }.sorted()
        }
        let elapsed = (ContinuousClock.now - started).seconds
        let statistics = database.statistics
        let rows = try await database.read { try $0.queryOne("SELECT count(*) FROM operations")!.get(0, as: Int.self) }
        await database.close()
        #expect(rows == latencies.count)
        #expect(rows == statistics.committedWrites)
        func percentile(_ p: Double) -> String {
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%6.2f", value.seconds * 1000)
        }
        return String(
            format: "%7d | %7d | %9d | %11.1f | %@ | %@", writers, Int(Double(rows) / elapsed),
            Int(Double(statistics.commits) / elapsed), Double(rows) / Double(max(1, statistics.commits)),
            percentile(0.5), percentile(0.99))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
