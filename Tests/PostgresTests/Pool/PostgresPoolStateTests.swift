import Testing

@testable import Postgres

/// The pool's rules without a server: bound, LIFO reuse, FIFO waiters, slots handed on.
@Suite struct PostgresPoolStateTests {
    let t0 = ContinuousClock.now

    @Test func opensUpToTheMaximumThenQueuesInOrder() {
        var state = PostgresPoolState<Int>(maximum: 2)
        guard case .connect = state.acquire(), case .connect = state.acquire() else { Issue.record("no slot"); return }
        guard case .wait(let first) = state.acquire(), case .wait(let second) = state.acquire() else { Issue.record("no queue"); return }
        #expect(state.open == 2 && state.waiting == [first, second])
        // A returned connection goes to the first waiter, not to the idle list.
        guard case .give(1, let ticket) = state.release(1, reusable: true, at: t0) else { Issue.record("not handed on"); return }
        #expect(ticket == first && state.idle.isEmpty && state.open == 2)
    }

    @Test func waitersPastTheirDeadlineStopWaitingAndServedOnesAreForgotten() {
        var state = PostgresPoolState<Int>(maximum: 1)
        _ = state.acquire()
        guard case .wait(let early) = state.acquire(waitingUntil: t0 + .seconds(1)),
            case .wait(let late) = state.acquire(waitingUntil: t0 + .seconds(2)),
            case .wait(let patient) = state.acquire()
        else { Issue.record("no queue"); return }
        #expect(state.nextDeadline == t0 + .seconds(1))
        #expect(state.stopWaiting(expiredAt: t0 + .milliseconds(999)).isEmpty)
        #expect(state.stopWaiting(expiredAt: t0 + .milliseconds(1500)) == [early])
        #expect(state.waiting == [late, patient] && state.nextDeadline == t0 + .seconds(2))
        // Served before its deadline: it is not failed later, and its deadline no longer counts.
        guard case .give(1, late) = state.release(1, reusable: true, at: t0) else { Issue.record("not handed on"); return }
        #expect(state.nextDeadline == nil)
        #expect(state.stopWaiting(expiredAt: t0 + .seconds(60)).isEmpty && state.waiting == [patient])
    }

    @Test func aDiscardedConnectionLetsTheNextWaiterConnect() {
        var state = PostgresPoolState<Int>(maximum: 1)
        _ = state.acquire()
        guard case .wait(let ticket) = state.acquire() else { Issue.record("no queue"); return }
        guard case .letConnect(ticket) = state.release(1, reusable: false, at: t0) else { Issue.record("slot not handed on"); return }
        #expect(state.open == 1)
        // The waiter's connect failed: nobody waits, the slot is free.
        guard case .none = state.freeSlot() else { Issue.record("phantom waiter"); return }
        #expect(state.open == 0)
        guard case .connect = state.acquire() else { Issue.record("slot lost"); return }
    }

    @Test func reusesTheMostRecentlyIdleConnectionAndAgesOutOldOnes() {
        var state = PostgresPoolState<Int>(maximum: 3)
        for _ in 0..<3 { _ = state.acquire() }
        _ = state.release(1, reusable: true, at: t0)
        _ = state.release(2, reusable: true, at: t0 + .seconds(10))
        _ = state.release(3, reusable: true, at: t0 + .seconds(20))
        guard case .use(3, let since) = state.acquire() else { Issue.record("not LIFO"); return }
        #expect(since == t0 + .seconds(20))
        #expect(state.removeIdle(since: t0 + .seconds(5)) == [1])
        #expect(state.open == 2 && state.inUse == 1 && state.idle.map(\.connection) == [2])
    }

    @Test func aWaiterThatGaveUpIsSkipped() {
        var state = PostgresPoolState<Int>(maximum: 1)
        _ = state.acquire()
        guard case .wait(let gone) = state.acquire(), case .wait(let next) = state.acquire() else { Issue.record("no queue"); return }
        let stopped = state.stopWaiting(gone)
        let stoppedAgain = state.stopWaiting(gone)
        #expect(stopped && !stoppedAgain)
        guard case .give(1, next) = state.release(1, reusable: true, at: t0) else { Issue.record("served the one who left"); return }
    }

    @Test func closingEndsIdleConnectionsAndWaitersAndRefusesNewAcquires() {
        var state = PostgresPoolState<Int>(maximum: 3)
        for _ in 0..<3 { _ = state.acquire() }
        _ = state.release(1, reusable: true, at: t0)
        _ = state.acquire()  // 1 again
        guard case .wait(let ticket) = state.acquire() else { Issue.record("no queue"); return }
        _ = state.release(3, reusable: false, at: t0)  // its slot goes to the waiter, which connects
        guard case .wait(let late) = state.acquire() else { Issue.record("no queue"); return }
        _ = state.release(1, reusable: true, at: t0)  // 1 goes to `late`
        guard case .wait(let last) = state.acquire() else { Issue.record("no queue"); return }
        #expect(ticket != late && state.waiting == [last])
        let closed = state.close()
        #expect(closed.waiters == [last] && closed.idle.isEmpty)
        guard case .closed = state.acquire() else { Issue.record("acquired after close"); return }
        // Connections in use when the pool closed are not kept, nor handed on.
        for connection in [1, 2, 3] {
            guard case .none = state.release(connection, reusable: true, at: t0) else { Issue.record("handed on after close"); return }
        }
        #expect(state.idle.isEmpty && state.open == 0)
    }
}
