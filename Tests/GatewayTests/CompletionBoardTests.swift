import ChildProcess
import Synchronization
import Testing

@testable import Gateway

/// A waiter is woken by the notice of its operation's end, and finds the end by itself when the
/// notice never comes (another process ran it and the notice was lost).
@Suite struct CompletionBoardTests {
    final class Flag: Sendable {
        let value = Mutex(false)
        let checks = Atomic<Int>(0)
        func isSet() -> Bool {
            checks.add(1, ordering: .relaxed)
            return value.withLock { $0 }
        }
    }

    @Test func aNoticeWakesTheWaiter() async {
        let board = CompletionBoard(pollInterval: .seconds(3600))
        let flag = Flag()
        let waiter = Task { await board.wait(for: "op_1", timeout: .seconds(60)) { flag.isSet() } }
        // Registered and checked once: then only the notice can wake it.
        #expect(await eventually { flag.checks.load(ordering: .relaxed) == 1 })
        board.complete(["op_other"])
        board.complete(["op_1"])
        #expect(await waiter.value)
    }

    @Test func withoutANoticeTheWaiterPollsTheStore() async {
        let board = CompletionBoard(pollInterval: .milliseconds(10))
        let flag = Flag()
        let waiter = Task { await board.wait(for: "op_1", timeout: .seconds(60)) { flag.isSet() } }
        #expect(await eventually { flag.checks.load(ordering: .relaxed) >= 3 })
        flag.value.withLock { $0 = true }
        #expect(await waiter.value)
    }

    @Test func aWaiterGivesUpAfterItsTimeout() async {
        let board = CompletionBoard(pollInterval: .milliseconds(10))
        #expect(await board.wait(for: "op_1", timeout: .milliseconds(50)) { false } == false)
    }
}
