import Foundation
import Rokt
import Testing
@testable import Gateway

/// What every `OperationStore` must do, run on each backend of `StoreBackends.all`.
@Suite(.timeLimit(.minutes(1))) struct OperationStoreContractTests {
    typealias F = Fixture

    @Test(arguments: StoreBackends.all)
    func aSubmitIsDurableCountedAndMakesItsJobDue(_ backend: StoreBackend) async throws {
        try await backend.withLocation { location in
            var store = try await backend.open(location)
            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            #expect(try await store.submit(F.submission(F.operation("op_a"))) == .accepted)
            let due = await commits.next { if case .jobDue = $0 { true } else { false } }
            #expect(due == .jobDue(ClaimedJobKey(merchantId: "m1", resource: "status")))
            await store.close()

            store = try await backend.open(location)
            #expect(try await store.operation("op_a") == F.operation("op_a"))
            #expect(try await store.document("op_a")?.state == .queued)
            #expect(try await store.gauges().operationsByState["queued"] == 1)
            #expect(try await store.hasClaimableJobs(now: F.t0, excluding: []))
            #expect(try await store.nextJobDue() == F.t0)
            await store.close()
        }
    }

    @Test(arguments: StoreBackends.all)
    func theQueueBoundRefusesAndStoresNothing(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.submit(F.submission(F.operation("op_a"), maxUnfinished: 2)) == .accepted)
            #expect(try await store.submit(F.submission(F.operation("op_b", merchant: "m2"), maxUnfinished: 2)) == .accepted)
            let refused = F.submission(F.operation("op_c", merchant: "m3"), maxUnfinished: 2, inboundKey: InboundKey(apiKeyId: "key_1", key: "k"))
            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            #expect(try await store.submit(refused) == .queueFull(limit: 2))
            #expect(try await store.operation("op_c") == nil)
            #expect(
                try await store.hasClaimableJobs(
                    now: F.t0,
                    excluding: [
                        ClaimedJobKey(merchantId: "m1", resource: "status"),
                        ClaimedJobKey(merchantId: "m2", resource: "status"),
                    ]) == false)
            #expect(try await store.gauges().operationsByState["queued"] == 2)
            // An ended operation frees its place.
            try await store.finish([F.success("op_a")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            #expect(try await store.submit(F.submission(F.operation("op_d", merchant: "m4"), maxUnfinished: 2)) == .accepted)
            // Notices come in commit order: the refused submit published none.
            #expect(await commits.next { if case .jobDue = $0 { true } else { false } } == .jobDue(ClaimedJobKey(merchantId: "m4", resource: "status")))
        }
    }

    @Test(arguments: StoreBackends.all)
    func aSecondRegisterOfOneAccountJoinsTheFirstAndBindsTheCallersKey(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let registration = MerchantRegistration(externalAccountId: "shop-1", name: "Shop")
            #expect(try await store.submit(F.submission(F.operation("op_a"), registration: registration)) == .accepted)
            let key = InboundKey(apiKeyId: "key_1", key: "retry")
            #expect(try await store.claim(key, requestHash: "h", now: F.t0, retention: 1000, lease: 100, heldElsewhere: { true }) == .claimed)
            let second = try await store.submit(F.submission(F.operation("op_b"), inboundKey: key, registration: registration))
            guard case .alreadyRegistering(let existing) = second else { Issue.record("got \(second)"); return }
            #expect(existing.id == "op_a")
            #expect(try await store.operation("op_b") == nil)
            guard
                case .existing(let record) = try await store.claim(
                    key, requestHash: "h", now: F.t0, retention: 1000, lease: 100,
                    heldElsewhere: { false })
            else { Issue.record("key not kept"); return }
            #expect(record.operationId == "op_a")
            // A failed register may be tried again.
            try await store.finish([F.failure("op_a")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            #expect(try await store.submit(F.submission(F.operation("op_c"), registration: registration)) == .accepted)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aLeasedJobIsNotClaimableByAnotherOwnerUntilTheLeaseEnds(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.submit(F.submission(F.operation("op_a")))
            _ = try await store.submit(F.submission(F.operation("op_b", merchant: "m2")))
            let busy: Set = [ClaimedJobKey(merchantId: "m2", resource: "status")]
            let first = try await store.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 1000, limit: 5, excluding: busy)
            #expect(first.map(\.merchantId) == ["m1"])
            #expect(first.first?.leaseUntil == F.t0 + 1000)
            #expect(try await store.claimJobs(owner: "B", now: F.t0 + 999, leaseUntil: F.t0 + 2000, limit: 5, excluding: busy).isEmpty)
            #expect(try await store.hasClaimableJobs(now: F.t0 + 999, excluding: busy) == false)
            let afterLease = try await store.claimJobs(owner: "B", now: F.t0 + 1000, leaseUntil: F.t0 + 2000, limit: 5, excluding: busy)
            #expect(afterLease.map(\.merchantId) == ["m1"])
            // A renewal by a former owner does not take it back (a shared store says the lease is lost).
            if backend.sharedByReplicas {
                await #expect(throws: LeaseLost(job: ClaimedJobKey(first[0]), owner: "A")) {
                    try await store.renew(first[0], owner: "A", leaseUntil: F.t0 + 5000, calls: [])
                }
            } else {
                try await store.renew(first[0], owner: "A", leaseUntil: F.t0 + 5000, calls: [])
            }
            #expect(try await store.claimJobs(owner: "C", now: F.t0 + 2000, leaseUntil: F.t0 + 3000, limit: 5, excluding: busy).map(\.merchantId) == ["m1"])
        }
    }

    @Test(arguments: StoreBackends.all)
    func foreignLeasesEndAtStartAndReleasedJobsComeBackWhenDue(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.submit(F.submission(F.operation("op_a")))
            _ = try #require(try await store.claimJobs(owner: "dead", now: F.t0, leaseUntil: F.t0 + 60_000, limit: 1, excluding: []).first)
            // A shared store ends no lease at start (it may be a live replica's): the lease expires instead.
            #expect(try await store.releaseForeignLeases(owner: "alive") == (backend.sharedByReplicas ? 0 : 1))
            let takeover = backend.sharedByReplicas ? F.t0 + 60_000 : F.t0 + 1
            #expect(try await store.hasClaimableJobs(now: takeover - 1, excluding: []) != backend.sharedByReplicas)
            let job = ClaimedJob(merchantId: "m1", resource: "status", attempts: 0, leaseUntil: takeover + 1000)
            #expect(try await store.claimJobs(owner: "alive", now: takeover, leaseUntil: takeover + 1000, limit: 1, excluding: []) == [job])
            // A retry is due at its time, with its attempts; an idle job with a queued operation is due at once.
            try await store.release(job, .retry(dueAt: F.t0 + 500, attempts: 3, expired: [], deletePendingWrite: false, now: F.t0), calls: [])
            #expect(try await store.claimJobs(owner: "x", now: F.t0 + 499, leaseUntil: F.t0 + 1000, limit: 1, excluding: []).isEmpty)
            #expect(try await store.claimJobs(owner: "x", now: F.t0 + 500, leaseUntil: F.t0 + 1000, limit: 1, excluding: []).first?.attempts == 3)
            try await store.release(job, .idle(now: F.t0 + 600), calls: [])
            #expect(try await store.nextJobDue() == F.t0 + 600)
            try await store.finish([F.success("op_a")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            try await store.release(job, .idle(now: F.t0 + 700), calls: [])
            #expect(try await store.nextJobDue() == nil)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aPendingWriteRoundTripsWithItsCallsAndGoes(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.submit(F.submission(F.operation("op_a")))
            let write = F.write(for: ["op_a"])
            try await store.begin(write, now: F.t0 + 1, calls: [LoggedCall(call: try F.call("req-1"), operationIds: ["op_a"])])
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status") == write)
            let running = try #require(try await store.operation("op_a"))
            #expect(running.state == .running && running.attempts == 1 && running.updatedAt == F.t0 + 1)
            try await store.countAttempt(["op_a"], now: F.t0 + 2, calls: [LoggedCall(call: try F.call("req-2"), operationIds: ["op_a"])])
            try await store.setUpstreamOperation("rokt-op-9", merchantId: "m1", resource: "status", calls: [])
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status")?.upstreamOperationId == "rokt-op-9")
            #expect(try await store.calls(of: "op_a").map(\.requestId) == ["req-1", "req-2"])
            #expect(try await store.operation("op_a")?.attempts == 2)
            try await store.abandon(write, now: F.t0 + 3, calls: [])
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status") == nil)
            #expect(try await store.operation("op_a")?.state == .queued)
            try await store.begin(write, now: F.t0 + 4, calls: [])
            try await store.deletePendingWrite(merchantId: "m1", resource: "status", calls: [])
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status") == nil)
        }
    }

    @Test(arguments: StoreBackends.all)
    func finishNeverOverwritesAnEndingAndRecordsEventsOnlyWithTheEndingItMakes(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await store.submit(F.submission(F.operation("op_a")))
            _ = try await store.submit(F.submission(F.operation("op_b")))
            try await store.begin(F.write(for: ["op_a", "op_b"]), now: F.t0, calls: [])
            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            let succeeded = WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: ["operationId": .string("op_a")])
            try await store.finish(
                [F.success("op_a", events: [succeeded]), F.success("op_b")],
                deletePendingWriteOf: ClaimedJobKey(merchantId: "m1", resource: "status"), now: F.t0 + 5, calls: [])
            #expect(await commits.next { if case .operationsEnded = $0 { true } else { false } } == .operationsEnded(["op_a", "op_b"]))
            let ended = try #require(try await store.operation("op_a"))
            #expect(ended.state == .succeeded && ended.changed == true && ended.result == .object(["status": .string("paused")]))
            #expect(ended.updatedAt == F.t0 + 5)
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status") == nil)

            let late = WebhookEvents.event(.operationFailed, merchantId: "m1", data: ["operationId": .string("op_a")])
            try await store.finish([F.failure("op_a", events: [late])], deletePendingWriteOf: nil, now: F.t0 + 9, calls: [])
            #expect(try await store.operation("op_a") == ended)
            let log = try #require(try await store.deliveries(endpointId: "we_1", limit: 10, after: nil))
            #expect(log.map(\.eventType) == ["operation.succeeded"])
            #expect(log.first?.eventId == succeeded.factId)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aFailedJobWriteLeavesNoEndingNoEventAndKeepsNothingOfItsCalls(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await store.submit(F.submission(F.operation("op_a")))
            let event = WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: ["operationId": .string("op_a")])
            // A call naming an operation that does not exist fails the whole write.
            await #expect(throws: (any Error).self) {
                try await store.finish(
                    [F.success("op_a", events: [event])], deletePendingWriteOf: nil, now: F.t0,
                    calls: [LoggedCall(call: try F.call("req-1"), operationIds: ["op_a", "op_missing"])])
            }
            #expect(try await store.operation("op_a")?.state == .queued)
            #expect(try await store.calls(of: "op_a").isEmpty)
            #expect(try await store.deliveries(endpointId: "we_1", limit: 10, after: nil)?.isEmpty == true)
        }
    }

    @Test(arguments: StoreBackends.all)
    func expiredOperationsEndWithTheRetryRelease(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.submit(F.submission(F.operation("op_old", at: F.t0)))
            _ = try await store.submit(F.submission(F.operation("op_new", at: F.t0 + 10)))
            #expect(try await store.unfinished(merchantId: "m1", resource: "status", createdAtOrBefore: F.t0 + 5).map(\.id) == ["op_old"])
            try await store.begin(F.write(for: ["op_old"]), now: F.t0 + 20, calls: [])
            let job = try #require(try await store.claimJobs(owner: "A", now: F.t0 + 20, leaseUntil: F.t0 + 1000, limit: 1, excluding: []).first)
            try await store.release(
                job,
                .retry(
                    dueAt: F.t0 + 100, attempts: 1, expired: [F.failure("op_old")], deletePendingWrite: true,
                    now: F.t0 + 20), calls: [])
            #expect(try await store.operation("op_old")?.state == .failed)
            #expect(try await store.operation("op_new")?.state == .queued)
            #expect(try await store.pendingWrite(merchantId: "m1", resource: "status") == nil)
            #expect(try await store.nextJobDue() == F.t0 + 100)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aRegistrationMovesTheOperationAndRecordsItsEvent(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            let registration = MerchantRegistration(externalAccountId: "shop-1", name: "Shop")
            _ = try await store.submit(F.submission(F.operation("op_r", merchant: ""), registration: registration))
            let event = WebhookEvents.registered(merchantId: "acct-9", merchant: .object([:]), operationId: "op_r", trace: nil)
            try await store.recordRegistration(
                RegistrationAnswer(
                    operationId: "op_r", accountId: "acct-9", externalAccountId: "shop-1",
                    event: event), now: F.t0, calls: [])
            #expect(try await store.operation("op_r")?.merchantId == "acct-9")
            #expect(try await store.list(OperationQuery(merchantIds: ["acct-9"], limit: 10)).map(\.id) == ["op_r"])
            let log = try #require(try await store.deliveries(endpointId: "we_1", limit: 10, after: nil))
            #expect(log.map(\.eventType) == ["merchant.registered"] && log.first?.merchantId == "acct-9")
        }
    }
}

extension SubmitOutcome: Equatable {
    public static func == (a: SubmitOutcome, b: SubmitOutcome) -> Bool {
        switch (a, b) {
        case (.accepted, .accepted): true
        case (.alreadyRegistering(let x), .alreadyRegistering(let y)): x == y
        case (.queueFull(let x), .queueFull(let y)): x == y
        default: false
        }
    }
}

extension InboundClaim: Equatable {
    public static func == (a: InboundClaim, b: InboundClaim) -> Bool {
        switch (a, b) {
        case (.claimed, .claimed): true
        case (.existing(let x), .existing(let y)): x.requestHash == y.requestHash && x.state == y.state && x.operationId == y.operationId
        default: false
        }
    }
}
