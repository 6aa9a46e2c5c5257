import Foundation
import Testing

@testable import Gateway

/// Durable submits per second through `PostgresGatewayStore.submit` (synchronous_commit on),
/// at several numbers of concurrent submitters over 100 merchants, on a pool of 16 connections
/// (DATABASE_MAX_CONNECTIONS' default), against a scratch database on the test cluster.
///
/// Disabled unless STORE_BENCH=1; run it in release with `bench/store.sh --postgres`.
/// STORE_BENCH_SECONDS sets the length of each run (default 3).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["STORE_BENCH"] == "1", "set STORE_BENCH=1 to run"))
struct PostgresStoreBenchmark {
    static let seconds = Double(ProcessInfo.processInfo.environment["STORE_BENCH_SECONDS"] ?? "") ?? 3
    static let poolSize = 16

    @Test func durableSubmitsPerSecond() async throws {
        print("PostgreSQL store benchmark: \(Self.seconds) s per run, pool of \(Self.poolSize), one operation per submit")
        print("submitters | submits/s | p50 ms | p99 ms")
        for submitters in [16, 64, 256] {
            print(try await submits(concurrently: submitters))
        }
    }

    private func submits(concurrently submitters: Int) async throws -> String {
        let url = try await ScratchDatabases.create()
        let store = try await ScratchDatabases.open(url, poolSize: Self.poolSize)
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    var latencies: [Duration] = []
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        let operation = Fixture.operation(
                            "op_\(submitter)_\(sequence)", merchant: "merchant-\(submitter % 100)", intent: .status(.paused))
                        let begin = ContinuousClock.now
                        guard case .accepted = try await store.submit(Fixture.submission(operation, maxUnfinished: 1_000_000_000)) else {
                            throw StoreInconsistency(description: "a submit was not accepted")
                        }
                        latencies.append(ContinuousClock.now - begin)
                        sequence += 1
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [Duration]()) { $0 += $1 }.sorted()
        }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let stored = try await store.read { db in try await db.query("SELECT count(*) AS n FROM operations").rows[0].int("n") }
        await store.close()
        await ScratchDatabases.drop(url)
        #expect(stored == latencies.count)
        func percentile(_ p: Double) -> String {
            String(format: "%6.2f", Self.seconds(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) * 1000)
        }
        return String(
            format: "%10d | %9d | %@ | %@", submitters, Int(Double(latencies.count) / elapsed), percentile(0.5), percentile(0.99))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
