#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// A dedicated OS thread for blocking SQLite work: never the Swift cooperative pool (a blocked
/// pool thread starves every task) and never an event-loop thread.
enum StoreThread {
    private final class Entry {
        var body: (() -> Void)?
        let onExit: @Sendable () -> Void
        init(body: @escaping () -> Void, onExit: @escaping @Sendable () -> Void) {
            self.body = body
            self.onExit = onExit
        }
    }

    /// Starts a detached thread running `body`, then `onExit` once `body` and everything it
    /// captured (the thread's connection) has been released.
    static func start(name: String, _ body: sending @escaping () -> Void, onExit: @escaping @Sendable () -> Void) throws {
        let entry = Unmanaged.passRetained(Entry(body: body, onExit: onExit))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let code = pthread_create(
            &thread, &attributes,
            { argument in
                let entry = Unmanaged<Entry>.fromOpaque(argument!).takeRetainedValue()
                entry.body?()
                entry.body = nil  // closes the connection the body captured, before anyone hears "exited"
                entry.onExit()
                return nil
            }, entry.toOpaque())
        if code != 0 {
            entry.release()
            throw StoreError(.other, "cannot start the \(name) thread: \(FileSystem.describe(errno: code))")
        }
    }
}

/// Lets `close()` wait, without blocking a thread, until every Store thread has exited.
final class ExitLatch: Sendable {
    private struct State {
        var running: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(running: count)) }

    /// One thread is done.
    func arrive() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every thread has arrived.
    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Work for a Store thread: a caller's body, type-erased, and how to answer the caller.
struct ConnectionJob: Sendable {
    /// Runs the body on the thread's connection. The caller is not answered yet: `finish` of the
    /// outcome does that once the transaction's fate is known.
    let run: @Sendable (SQLiteConnection) -> JobOutcome
    /// Answers the caller with `error` without running the body (busy lock, shutdown).
    let fail: @Sendable (any Error) -> Void
}

struct JobOutcome: Sendable {
    /// The error the body threw, nil when it returned.
    let error: (any Error)?
    /// Answers the caller: with the body's own result, or with `batchError` when the body
    /// succeeded but its transaction did not commit.
    let finish: @Sendable (_ batchError: (any Error)?) -> Void
}

extension ConnectionJob {
    /// A job that resumes `continuation` with `body`'s result.
    static func resuming<T: Sendable>(
        _ continuation: CheckedContinuation<T, any Error>, with body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) -> ConnectionJob {
        ConnectionJob(
            run: { connection in
                let result = Result<T, any Error> { try body(connection) }
                let error: (any Error)? = if case .failure(let error) = result { error } else { nil }
                return JobOutcome(error: error) { batchError in
                    if error == nil, let batchError {
                        continuation.resume(throwing: batchError)
                    } else {
                        continuation.resume(with: result)
                    }
                }
            },
            fail: { continuation.resume(throwing: $0) })
    }
}
