import HTTP
import Testing
@testable import Gateway

/// What every store keeps of W3C traces, run on each backend of `StoreBackends.all`: an
/// operation's trace, the trace a job's run continues (after a restart too), an event's trace.
@Suite(.timeLimit(.minutes(1))) struct TraceStoreContractTests {
    typealias F = Fixture
    static let first = TraceRecord(traceId: "4bf92f3577b34da6a3ce929d0e0e4736", flags: 1, traceState: "vendor=a")
    static let second = TraceRecord(traceId: "0af7651916cd43dd8448eb211c80319c")

    static func traced(_ id: String, _ trace: TraceRecord?) -> StoredOperation {
        var operation = F.operation(id)
        operation.trace = trace
        return operation
    }

    @Test(arguments: StoreBackends.all)
    func anOperationKeepsItsTraceAndItsJobContinuesTheOldestUnfinishedOne(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.trace(merchantId: "m1", resource: "status") == nil, "no operation")
            _ = try await store.submit(F.submission(Self.traced("op_a", Self.first)))
            _ = try await store.submit(F.submission(Self.traced("op_b", Self.second)))
            _ = try await store.submit(F.submission(Self.traced("op_c", nil)))
            #expect(try await store.operation("op_a")?.trace == Self.first)
            #expect(try await store.document("op_a")?.traceId == Self.first.traceId)
            #expect(try await store.operation("op_c")?.trace == nil)
            #expect(try await store.trace(merchantId: "m1", resource: "status") == Self.first)
            #expect(try await store.trace(merchantId: "m2", resource: "status") == nil)
            // A running operation (a write in flight when the process died) still counts.
            try await store.begin(F.write(for: ["op_a"]), now: F.t0, calls: [])
            #expect(try await store.trace(merchantId: "m1", resource: "status") == Self.first)
            try await store.finish([F.success("op_a")], deletePendingWriteOf: ClaimedJobKey(merchantId: "m1", resource: "status"), now: F.t0 + 1, calls: [])
            #expect(try await store.trace(merchantId: "m1", resource: "status") == Self.second)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aDeliveryIsClaimedWithItsEventsTrace(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await store.submit(F.submission(Self.traced("op_a", Self.first)))
            var event = WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: ["operationId": .string("op_a")])
            event.trace = Self.first
            var untraced = WebhookEvents.event(.controlsChanged, merchantId: "m1", data: ["n": .string("x")])
            untraced.trace = nil
            try await store.finish([F.success("op_a", events: [event, untraced])], deletePendingWriteOf: nil, now: F.t0, calls: [])
            let claimed = try await store.claimDeliveries(
                now: F.t0 + 10, firstDelay: 0, leaseUntil: F.t0 + 1000, owner: "A", limit: 10, perEndpointLimit: 10, inFlight: [:])
            #expect(claimed.count == 2)
            #expect(claimed.first { $0.eventId == event.factId }?.trace == Self.first)
            #expect(claimed.first { $0.eventId != event.factId }?.trace == nil)
        }
    }
}
