#if canImport(Glibc)
    import Glibc
#endif

/// The entry point of our executables: runs `body` on the global executor and parks the main
/// thread for the life of the process. `body` ends the process itself (`exit`).
///
/// Why not an `async` main: on Linux it parks the main thread in `dispatch_main()`, which calls
/// `pthread_exit` on it, and that force-unwinds the main stack through `.eh_frame` — 0.6 MiB of
/// resident memory in a dynamically linked binary, 2 MiB in a static one, for nothing.
public enum ProcessMain {
    public static func run(_ body: @escaping @Sendable () async -> Never) -> Never {
        blockAsynchronousSignals()
        Task.detached { await body() }
        while true { sleep(UInt32.max) }
    }

    /// The mask `dispatch_main()` gave the main thread (libdispatch's `_dispatch_sigmask`), so
    /// signals keep going where they went: asynchronous ones to Dispatch's signal sources
    /// (`SignalWaiter`), faults and traps to the thread that caused them (the Swift runtime's
    /// crash report), SIGPIPE and SIGPROF anywhere.
    private static func blockAsynchronousSignals() {
        var mask = sigset_t()
        sigfillset(&mask)
        for deliverable in [SIGILL, SIGTRAP, SIGFPE, SIGBUS, SIGSEGV, SIGSYS, SIGPIPE, SIGPROF] {
            sigdelset(&mask, deliverable)
        }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
    }
}
