import Dispatch
#if canImport(Glibc)
    import Glibc
#endif

/// Suspends until one of the signals arrives (their default action is disabled), for graceful
/// shutdown on SIGTERM/SIGINT. The handlers run on a Dispatch queue, not on a loop or the main actor.
public enum SignalWaiter {
    public static func wait(for signals: [Int32]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "signals")
            let fired = SignalOnce(continuation)
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { fired.fire() }
                source.resume()
                fired.keep(source)
            }
        }
    }
}

/// Resumes its continuation once, and keeps the signal sources alive until then.
private final class SignalOnce: @unchecked Sendable {
    // Touched only on the "signals" serial queue after setup.
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
    func fire() {
        continuation?.resume()
        continuation = nil
    }
}
