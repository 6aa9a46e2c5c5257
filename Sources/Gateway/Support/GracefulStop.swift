import Synchronization

/// Set when a stop signal arrives: from then on `/readyz` answers 503 so the load balancer takes
/// this instance out of rotation while it still serves (docs/operations.md, "Shutdown").
public final class DrainState: Sendable {
    private let draining = Atomic<Bool>(false)
    public init() {}
    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    public func begin() { draining.store(true, ordering: .relaxed) }
}

/// Waits for each task to finish until `deadline`; the ones still running then are cancelled
/// (a clean shutdown lets in-flight work end, but never waits forever).
func awaitOrCancel(_ tasks: [Task<Void, Never>], by deadline: ContinuousClock.Instant) async {
    for task in tasks {
        if ContinuousClock.now >= deadline { task.cancel(); continue }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await task.value }
            group.addTask {
                try? await Task.sleep(until: deadline)
                task.cancel()
            }
            await group.next()
            group.cancelAll()
        }
    }
}
