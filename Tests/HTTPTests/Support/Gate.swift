import Synchronization

/// Holds handlers at `pass()` until the test opens it; the test can wait for the first arrival.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var arrived = false
        var passers: [CheckedContinuation<Void, Never>] = []
        var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func pass() async {
        await withCheckedContinuation { continuation in
            let (resumeNow, arrivals) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                state.arrived = true
                let arrivals = state.arrivalWaiters
                state.arrivalWaiters = []
                if state.isOpen { return (true, arrivals) }
                state.passers.append(continuation)
                return (false, arrivals)
            }
            for waiter in arrivals { waiter.resume() }
            if resumeNow { continuation.resume() }
        }
    }

    func waitForArrival() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.arrived { return true }
                state.arrivalWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let passers = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.passers = [] }
            return state.passers
        }
        for passer in passers { passer.resume() }
    }
}
