import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Waits for SIGTERM/SIGINT (their default action disabled), for graceful shutdown.
///
/// Create it before the process says it is ready (before "listening"): a signal sent between
/// that line and the wait must not be lost. Setting `SIG_IGN` discards a signal already pending
/// (POSIX `sigaction`), so ignoring the signals only once the wait begins lost a SIGINT sent
/// right after startup and left the process running. Signals are blocked in every thread
/// (`ProcessMain`), so one arriving before Dispatch has registered the source stays pending and
/// reaches it. The handlers run on a Dispatch queue, not on a loop or the main actor.
public final class SignalWaiter: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, Never>?)
        case fired
    }

    private let state = Mutex(State.waiting(nil))
    /// Kept only so the sources live as long as the waiter; never touched after `init`.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    public init(for signals: [Int32]) {
        let queue = DispatchQueue(label: "signals")
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: queue))
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
        }
    }

    /// Returns once one of the signals has arrived, including one that arrived before the call.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let firedAlready = state.withLock { state in
                if case .fired = state { return true }
                state = .waiting(continuation)
                return false
            }
            if firedAlready { continuation.resume() }
        }
    }

    /// What the signal source runs; internal for tests.
    func fire() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state = .fired }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        continuation?.resume()
    }
}
