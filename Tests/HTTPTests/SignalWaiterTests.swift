#if canImport(Glibc)
    import Glibc
#endif
import Testing
@testable import HTTP

@Suite struct SignalWaiterTests {
    /// The process announces readiness between creating the waiter and waiting on it: a signal
    /// in that window must end the wait at once (it used to be discarded, and the process hung).
    @Test func aSignalBeforeTheWaitIsNotLost() async {
        let waiter = SignalWaiter(for: [SIGUSR2])
        waiter.fire()
        await waiter.wait()
    }

    @Test func aSignalDuringTheWaitEndsIt() async {
        let waiter = SignalWaiter(for: [SIGUSR2])
        async let waited: Void = waiter.wait()
        try? await Task.sleep(for: .milliseconds(20))
        waiter.fire()
        await waited
    }
}
