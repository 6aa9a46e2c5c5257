import Synchronization

/// Callers waiting for operations to end (`SYNC_WAIT_MS`), woken after the terminal state is committed.
final class CompletionBoard: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }
    private let waiters = Mutex<[String: [Waiter]]>([:])
    private let nextId = Atomic<UInt64>(0)

    /// How often a waiter looks at the store itself: the end of an operation another process ran
    /// arrives as a notice that may be lost (PostgreSQL's NOTIFY while its listener reconnects).
    let pollInterval: Duration

    init(pollInterval: Duration = .seconds(1)) { self.pollInterval = pollInterval }

    /// Suspends until `operationId` completes (true) or `timeout` passes (false).
    func wait(for operationId: String, timeout: Duration, isDone: @escaping @Sendable () async -> Bool) async -> Bool {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).newValue
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.resume(operationId, waiter: id, with: false)
        }
        let poller = PollingTask()
        defer {
            timer.cancel()
            poller.cancel()
        }
        return await withCheckedContinuation { continuation in
            waiters.withLock { $0[operationId, default: []].append(Waiter(id: id, continuation: continuation)) }
            // It may have finished before we registered: check at once, then now and then.
            poller.start { [pollInterval] in
                while !Task.isCancelled {
                    if await isDone() {
                        self.resume(operationId, waiter: id, with: true)
                        return
                    }
                    try? await Task.sleep(for: pollInterval)
                }
            }
        }
    }

    func complete(_ operationIds: [String]) {
        let woken = waiters.withLock { waiters in operationIds.flatMap { waiters.removeValue(forKey: $0) ?? [] } }
        for waiter in woken { waiter.continuation.resume(returning: true) }
    }

    private func resume(_ operationId: String, waiter id: UInt64, with value: Bool) {
        let found = waiters.withLock { waiters -> Waiter? in
            guard var list = waiters[operationId], let index = list.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = list.remove(at: index)
            waiters[operationId] = list.isEmpty ? nil : list
            return waiter
        }
        found?.continuation.resume(returning: value)
    }
}

/// A waiter's store polling, started once it is registered and cancelled when it returns.
private final class PollingTask: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    func start(_ body: @escaping @Sendable () async -> Void) { task.withLock { $0 = Task(operation: body) } }
    func cancel() { task.withLock { $0?.cancel() } }
}

/// Wakes the scheduler when there may be work (a submission, a job handed back).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal, at once if one came since the last wait, or after `timeout`.
    func wait(timeout: Duration) async {
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.signal()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}
