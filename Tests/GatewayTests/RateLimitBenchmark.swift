import Foundation
import Testing

@testable import Gateway

/// `CallerRateLimits.admit` per second from 1, 2, 4 and 8 threads at once: spread over 10,000
/// callers (the usual case), all on one caller (one stripe's lock, the worst contention), and a
/// flood of new partitions into a full table (every admit inserts; evictions run).
///
/// Disabled unless RATE_LIMIT_BENCH=1; run it in release with `bench/rate-limits.sh`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["RATE_LIMIT_BENCH"] == "1", "set RATE_LIMIT_BENCH=1 to run"))
struct RateLimitBenchmark {
    static let perThread = 200_000

    @Test func admissionsPerSecond() async {
        print("rate limit benchmark: \(Self.perThread) admits per thread")
        print("workload | threads | admits/s | ns per admit per thread")
        for workload in ["spread", "one caller", "flood"] {
            for threads in [1, 2, 4, 8] {
                let limits = CallerRateLimits(configuration: RateLimitConfiguration())
                let partitions = (0..<10_000).map { RateLimitPartition.apiKey(id: "key_\($0)") }
                let started = ContinuousClock.now
                await withTaskGroup(of: Void.self) { group in
                    for thread in 0..<threads {
                        group.addTask { await Self.onThread { Self.run(workload, limits, partitions, thread) } }
                    }
                }
                let seconds = Self.seconds(ContinuousClock.now - started)
                let total = Double(threads * Self.perThread)
                print("\(workload) | \(threads) | \(Int(total / seconds)) | \(Int(seconds * 1e9 / Double(Self.perThread)))")
            }
        }
    }

    private static func run(_ workload: String, _ limits: CallerRateLimits, _ partitions: [String], _ thread: Int) {
        for n in 0..<perThread {
            switch workload {
            case "spread": _ = limits.admit(partition: partitions[(n &* 7919 &+ thread) % partitions.count], class: .read)
            case "one caller": _ = limits.admit(partition: partitions[0], class: .read)
            default: _ = limits.admit(partition: "pk:pk_1|198.51.100.\(thread).\(n)", class: .placements)
            }
        }
    }

    /// Blocking work on a thread of its own, never on the cooperative pool.
    private static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                body()
                continuation.resume()
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
