import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The entry point of our executables: runs `body` on the global executor and parks the main
/// thread for the life of the process. `body` ends the process itself (`exit`).
///
/// Why not an `async` main: on Linux it parks the main thread in `dispatch_main()`, which calls
/// `pthread_exit` on it, and that force-unwinds the main stack through `.eh_frame` — 0.6 MiB of
/// resident memory in a dynamically linked binary, 2 MiB in a static one, for nothing.
///
/// All asynchronous signals stay blocked on the main thread (as on Dispatch's own threads, which
/// inherit nothing else), so SIGTERM and SIGINT reach `SignalWaiter`'s signal sources rather than
/// being discarded by a thread that ignores them.
public enum ProcessMain {
    public static func run(_ body: @escaping @Sendable () async -> Never) -> Never {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        Task.detached { await body() }
        while true { sleep(UInt32.max) }
    }
}
