import Testing
@testable import HTTP

@Suite struct ConnectionPoolStateTests {
    final class Conn {}
    typealias Pool = ConnectionPoolState<Conn>

    @Test func opensUpToTheMaximumThenQueuesWaiters() {
        var pool = Pool(maxConnections: 2)
        guard case .connect = pool.acquire(waiterId: 1), case .connect = pool.acquire(waiterId: 2) else { Issue.record("expected connects"); return }
        guard case .wait = pool.acquire(waiterId: 3) else { Issue.record("expected wait"); return }
        #expect(pool.total == 2)
        #expect(pool.waiters == [3])
    }

    @Test func releasedConnectionGoesToTheFirstWaiter() {
        var pool = Pool(maxConnections: 1)
        let conn = Conn()
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        _ = pool.acquire(waiterId: 3)
        guard case .use(let id, let handed) = pool.release(conn, reusable: true) else { Issue.record("expected hand-over"); return }
        #expect(id == 2)
        #expect(handed === conn)
        #expect(pool.idle.isEmpty)
        #expect(pool.waiters == [3])
    }

    @Test func idleConnectionIsReusedMostRecentFirst() {
        var pool = Pool(maxConnections: 2)
        let a = Conn(), b = Conn()
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        _ = pool.release(a, reusable: true)
        _ = pool.release(b, reusable: true)
        guard case .use(let reused) = pool.acquire(waiterId: 3) else { Issue.record("expected reuse"); return }
        #expect(reused === b)
    }

    @Test func closedConnectionFreesItsSlotForAWaiter() {
        var pool = Pool(maxConnections: 1)
        let conn = Conn()
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        guard case .connect(let id) = pool.release(conn, reusable: false) else { Issue.record("expected connect"); return }
        #expect(id == 2)
        #expect(pool.total == 1)
    }

    @Test func failedConnectFreesTheSlot() {
        var pool = Pool(maxConnections: 1)
        _ = pool.acquire(waiterId: 1)
        guard case .none = pool.connectFailed() else { Issue.record("no one waits"); return }
        #expect(pool.total == 0)
        guard case .connect = pool.acquire(waiterId: 2) else { Issue.record("slot should be free"); return }
    }

    @Test func idleCloseRemovesOnlyIdleConnections() {
        var pool = Pool(maxConnections: 2)
        let idle = Conn(), leased = Conn()
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        _ = pool.release(idle, reusable: true)
        guard case .none = pool.idleClosed(leased) else { Issue.record("leased one is not idle"); return }
        #expect(pool.total == 2)
        _ = pool.idleClosed(idle)
        #expect(pool.total == 1)
        #expect(pool.idle.isEmpty)
    }

    @Test func cancelledWaiterIsNotServedLater() {
        var pool = Pool(maxConnections: 1)
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        let first = pool.cancelWaiter(2), second = pool.cancelWaiter(2)
        #expect(first)
        #expect(!second)
        guard case .none = pool.release(Conn(), reusable: true) else { Issue.record("nobody waits"); return }
        #expect(pool.idle.count == 1)
    }

    @Test func drainEmptiesIdleAndWaiters() {
        var pool = Pool(maxConnections: 1)
        _ = pool.acquire(waiterId: 1)
        _ = pool.acquire(waiterId: 2)
        _ = pool.release(Conn(), reusable: false)
        let drained = pool.drain()
        #expect(drained.waiters.isEmpty)  // waiter 2 was promoted to connect
        #expect(pool.total == 1)
    }
}
