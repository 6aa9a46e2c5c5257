import ChildProcess
import Foundation
import Synchronization
import Testing
@testable import HTTP

/// A lookup that blocks its worker until the test releases it, counting how many run at once.
final class BlockingLookup: @unchecked Sendable {
    // Every field is guarded by `condition`.
    private let condition = NSCondition()
    private var isOpen = false
    private var runningNow = 0
    private var started = 0
    private var returned = 0
    private var maxRunning = 0

    var counts: (started: Int, returned: Int, maxRunning: Int) {
        condition.lock(); defer { condition.unlock() }
        return (started, returned, maxRunning)
    }

    var lookup: AddressResolver.Lookup {
        { [self] _, port in
            condition.lock()
            started += 1
            runningNow += 1
            maxRunning = max(maxRunning, runningNow)
            while !isOpen { condition.wait() }
            runningNow -= 1
            returned += 1
            condition.unlock()
            let loopback = SocketAddress.make(host: "127.0.0.1", port: port)!
            return .success([ResolvedAddress(storage: loopback.storage, length: loopback.length, family: loopback.family)])
        }
    }

    func release() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

@Suite struct AddressResolverTests {
    @Test func aHangingLookupCountsAgainstTheRequestBudget() async throws {
        let blocking = BlockingLookup()
        let resolver = AddressResolver(maxConcurrentLookups: 2, maxQueuedLookups: 8, lookup: blocking.lookup)
        var configuration = HTTPClient.Configuration()
        configuration.resolver = resolver
        let group = try EventLoopGroup(loopCount: 1)
        let client = HTTPClient(configuration: configuration, group: group)
        defer {
            blocking.release()
            client.shutdown()
            group.shutdown()
        }
        // Were the budget ignored, the call would wait for the lookup: let it end some day (late
        // enough that a loaded machine never releases it before the checks below).
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60)); blocking.release()
        }
        defer { watchdog.cancel() }
        let started = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPClientRequest(url: "http://hangs.example/"), timeout: .milliseconds(200))
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.mayHaveReachedServer == false)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        // The answer came while the lookup still hangs: the caller did not wait for it.
        #expect(blocking.counts.returned == 0)
        #expect(await eventually { blocking.counts.started == 1 })
        #expect(resolver.load.running == 1)
        blocking.release()
        #expect(await eventually { resolver.load.running == 0 })
    }

    @Test func neverMoreLookupsAtOnceThanTheLimit() async throws {
        let blocking = BlockingLookup()
        let resolver = AddressResolver(maxConcurrentLookups: 3, maxQueuedLookups: 100, lookup: blocking.lookup)
        let results = try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
            for i in 0..<12 {
                group.addTask { try await resolver.ipAddresses(of: "host\(i).example", timeout: .seconds(30)) }
            }
            // Three threads blocked in the lookup, nine callers waiting for one of them.
            #expect(await eventually { resolver.load == (3, 9) && blocking.counts.started == 3 })
            blocking.release()
            var all: [[[UInt8]]] = []
            for try await addresses in group { all.append(addresses) }
            return all
        }
        #expect(results.count == 12)
        #expect(results.allSatisfy { $0 == [[127, 0, 0, 1]] })
        #expect(blocking.counts.maxRunning == 3)
        #expect(resolver.load == (0, 0))
    }

    @Test func timedOutLookupsNeitherGrowThreadsNorRunLater() async throws {
        let blocking = BlockingLookup()
        let resolver = AddressResolver(maxConcurrentLookups: 1, maxQueuedLookups: 4, lookup: blocking.lookup)
        // A safety net only: released early, it would empty the worker the checks below count on,
        // and a loaded machine can take seconds over the three 50 ms timeouts.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60)); blocking.release()
        }
        defer { watchdog.cancel() }
        for host in ["first.example", "second.example", "third.example"] {
            await #expect(throws: HTTPClientError.self) { _ = try await resolver.ipAddresses(of: host, timeout: .milliseconds(50)) }
        }
        // The first still holds the one worker; the others left the queue when their callers gave up.
        #expect(resolver.load == (1, 0))
        #expect(await eventually { blocking.counts.started == 1 })
        blocking.release()
        #expect(await eventually { resolver.load == (0, 0) })
        #expect(try await resolver.ipAddresses(of: "fourth.example", timeout: .seconds(5)) == [[127, 0, 0, 1]])
        #expect(blocking.counts.started == 2 && blocking.counts.maxRunning == 1)
    }

    @Test func aFullQueueRefusesAtOnce() async throws {
        let blocking = BlockingLookup()
        let resolver = AddressResolver(maxConcurrentLookups: 1, maxQueuedLookups: 1, lookup: blocking.lookup)
        defer { blocking.release() }
        async let first = resolver.ipAddresses(of: "a.example", timeout: .seconds(30))
        async let second = resolver.ipAddresses(of: "b.example", timeout: .seconds(30))
        #expect(await eventually { resolver.load == (1, 1) && blocking.counts.started == 1 })
        let error = await #expect(throws: HTTPClientError.self) { _ = try await resolver.ipAddresses(of: "c.example", timeout: .seconds(30)) }
        #expect(error?.kind == .resolutionFailed)
        blocking.release()
        _ = try await (first, second)
    }

    @Test func ipLiteralsNeedNoLookup() async throws {
        let blocking = BlockingLookup()
        let resolver = AddressResolver(maxConcurrentLookups: 1, maxQueuedLookups: 0, lookup: blocking.lookup)
        #expect(try await resolver.ipAddresses(of: "10.1.2.3", timeout: .milliseconds(10)) == [[10, 1, 2, 3]])
        #expect(blocking.counts.started == 0)
    }
}

@Suite struct LookupQueueStateTests {
    @Test func runsUpToTheLimitThenQueuesThenRefuses() {
        var state = LookupQueueState(maxRunning: 2, maxQueued: 1)
        #expect(state.admit(1) == .run)
        #expect(state.admit(2) == .run)
        #expect(state.admit(3) == .queued)
        #expect(state.admit(4) == .refused)
        #expect(state.running == 2 && state.waiting == [3])
    }

    @Test func aFinishedLookupHandsItsWorkerToTheOldestWaiting() {
        var state = LookupQueueState(maxRunning: 1, maxQueued: 3)
        _ = state.admit(1)
        _ = state.admit(2)
        _ = state.admit(3)
        #expect(state.finish() == 2)
        #expect(state.running == 1 && state.waiting == [3])
        #expect(state.finish() == 3)
        #expect(state.finish() == nil)
        #expect(state.running == 0)
        #expect(state.admit(4) == .run)
    }

    @Test func withdrawingAWaitingLookupFreesItsPlace() {
        var state = LookupQueueState(maxRunning: 1, maxQueued: 1)
        _ = state.admit(1)
        #expect(state.admit(2) == .queued)
        #expect(state.withdraw(2) == true)
        #expect(state.withdraw(1) == false, "a running lookup cannot be withdrawn")
        #expect(state.admit(3) == .queued)
        #expect(state.finish() == 3)
        #expect(state.running == 1)
    }
}
