import Foundation
import Rokt
import Testing
@testable import Gateway
import JSON

/// What the inbound-idempotency, API-key, webhook and retention stores must do, run on each
/// backend of `StoreBackends.all`.
@Suite(.timeLimit(.minutes(1))) struct StoreContractTests {
    typealias F = Fixture
    static let day: Int64 = 86_400_000

    @Test(arguments: StoreBackends.all)
    func anInboundKeyIsClaimedOnceLeasedCompletedAndReplayed(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let key = InboundKey(apiKeyId: "key_1", key: "k-1")
            func claim(at now: Int64, heldElsewhere: Bool = false) async throws -> InboundClaim {
                try await store.claim(key, requestHash: "h", now: now, retention: Self.day, lease: 60_000, heldElsewhere: { heldElsewhere })
            }
            #expect(try await claim(at: F.t0) == .claimed)
            guard case .existing(let inFlight) = try await claim(at: F.t0 + 59_999) else { Issue.record("claimed twice"); return }
            #expect(inFlight.state == .inFlight && inFlight.leaseExpiresAt == F.t0 + 60_000)
            // Past its lease, a claim no request of this process answers is free; one still answered is not.
            #expect(try await claim(at: F.t0 + 60_000, heldElsewhere: true) != .claimed)
            #expect(try await claim(at: F.t0 + 60_000) == .claimed)
            try await store.complete(
                key,
                answer: InboundAnswer(
                    status: 201, headers: [["Location", "/x"]], body: Array("done".utf8),
                    secretReference: "we_1 abc"))
            try await store.release(key)  // an answered key is kept
            guard case .existing(let done) = try await claim(at: F.t0 + Self.day - 1) else { Issue.record("answer lost"); return }
            #expect(done.state == .done && done.status == 201 && done.headers == [["Location", "/x"]])
            #expect(done.body == Array("done".utf8) && done.secretReference == "we_1 abc")
            // After the retention window the key is new again.
            #expect(try await claim(at: F.t0 + 60_000 + Self.day) == .claimed)
            try await store.release(key)
            #expect(try await claim(at: F.t0 + 60_000 + Self.day) == .claimed)
        }
    }

    @Test(arguments: StoreBackends.all)
    func createdAndRevokedKeysAreVisibleWithANewVersion(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            let (empty, none) = try await store.activeKeys(unlessVersion: -1)
            #expect(none == [:])
            let key = ApiKey(id: "key_1", name: "ci", scopes: [.read, .write], merchants: ["m1"], createdAt: F.t0, revokedAt: nil)
            try await store.insertKey(key, hash: "hash-1")
            #expect(await commits.next { $0 == .apiKeysChanged } == .apiKeysChanged)
            let (created, active) = try await store.activeKeys(unlessVersion: empty)
            #expect(created != empty && active == ["hash-1": key])
            #expect(try await store.activeKeys(unlessVersion: created).byHash == nil)
            let other = ApiKey(id: "key_2", name: "boot", scopes: [.admin], merchants: nil, createdAt: F.t0 + 1, revokedAt: nil)
            try await store.insertKey(other, hash: "hash-2")
            #expect(try await store.revokeKey(id: "key_1", now: F.t0 + 2))
            #expect(try await store.revokeKey(id: "key_1", now: F.t0 + 3) == false)
            let (revoked, remaining) = try await store.activeKeys(unlessVersion: created)
            #expect(revoked != created && remaining == ["hash-2": other])
            #expect(try await store.allKeys().map(\.id) == ["key_1", "key_2"])
            #expect(try await store.allKeys().first?.revokedAt == F.t0 + 2)
        }
    }

    @Test(arguments: StoreBackends.all)
    func webhookSequenceNumbersAreGapFreePerMerchantAndAFactIsStoredOnce(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_all"), maxEndpoints: 5))
            #expect(try await store.createEndpoint(F.endpoint("we_some", events: [.operationSucceeded]), maxEndpoints: 5))
            let fact = WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: ["operationId": .string("op_0190000000001234")])
            let ids = try await store.recordEvents(
                [
                    fact, WebhookEvents.event(.controlsChanged, merchantId: "m1", data: [:]), fact,
                    WebhookEvents.event(.operationFailed, merchantId: "m2", data: [:]),
                ], now: F.t0)
            #expect(ids[0] == fact.factId && ids[2] == fact.factId && ids[1] != nil && ids[3] != nil)
            // Concurrent transactions of one merchant never share or skip a number.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask { _ = try await store.recordEvents([WebhookEvents.event(.merchantStatusChanged, merchantId: "m1", data: [:])], now: F.t0) }
                }
                try await group.waitForAll()
            }
            let all = try #require(try await store.deliveries(endpointId: "we_all", limit: 100, after: nil))
            #expect(all.filter { $0.merchantId == "m1" }.map(\.sequence).sorted() == Array(1...22))
            #expect(all.filter { $0.merchantId == "m2" }.map(\.sequence) == [1])
            let some = try #require(try await store.deliveries(endpointId: "we_some", limit: 100, after: nil))
            #expect(some.map(\.sequence) == [1])
            // The body carries the merchant and the number.
            let claimed = try await store.claimDeliveries(
                now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 1000, owner: "A", limit: 1,
                perEndpointLimit: 1, inFlight: ["we_all": 1])
            let input = try await store.attemptInput(try #require(claimed.first))
            let body = try JSONValue.parse(try #require(input.body))
            #expect(body["id"] == .string(fact.factId!) && body["data"]?["merchantId"] == .string("m1") && body["data"]?["sequence"] == .number(1))
        }
    }

    @Test(arguments: StoreBackends.all)
    func aDeliveryClaimRespectsLeasesThePerEndpointBoundAndTheFirstDelay(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            #expect(try await store.createEndpoint(F.endpoint("we_2"), maxEndpoints: 5))
            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            _ = try await store.recordEvents((0..<5).map { _ in WebhookEvents.event(.operationFailed, merchantId: "m1", data: [:]) }, now: F.t0)
            #expect(await commits.next { $0 == .deliveriesDue } == .deliveriesDue)
            func claim(_ owner: String, at now: Int64, perEndpointLimit: Int = 2, inFlight: [String: Int] = [:]) async throws -> [ClaimedDelivery] {
                try await store.claimDeliveries(
                    now: now, firstDelay: 100, leaseUntil: now + 1000, owner: owner, limit: 10,
                    perEndpointLimit: perEndpointLimit, inFlight: inFlight)
            }
            #expect(try await store.nextDeliveryDue(firstDelay: 100) == F.t0 + 100)
            #expect(try await claim("A", at: F.t0 + 99).isEmpty)
            let first = try await claim("A", at: F.t0 + 100, inFlight: ["we_1": 1])
            #expect(first.filter { $0.endpointId == "we_1" }.count == 1 && first.filter { $0.endpointId == "we_2" }.count == 2)
            // Another owner gets only the deliveries not leased (a bound high enough not to limit it:
            // a backend shared by processes also counts the other owners' live leases against it).
            let second = try await claim("B", at: F.t0 + 100, perEndpointLimit: 5)
            #expect(Set(second.map(\.id)).isDisjoint(with: first.map(\.id)) && second.count == 7)
            // Once the leases end, the same deliveries are claimable again.
            let third = try await store.claimDeliveries(
                now: F.t0 + 1100, firstDelay: 100, leaseUntil: F.t0 + 3000, owner: "C", limit: 10,
                perEndpointLimit: 5, inFlight: [:])
            #expect(third.count == 10)
            // A recorded attempt applies its decision; a disabled endpoint's deliveries are not claimed.
            let attempt = WebhookAttempt(at: F.t0 + 1100, status: 410, durationMs: 3, response: nil, error: nil)
            let decision = try await store.recordAttempt(attempt, of: third.first { $0.endpointId == "we_1" }!, now: F.t0 + 1101) { streak in
                DeliveryDecision(state: .failed, nextAttemptAt: nil, failingSince: streak ?? F.t0 + 1101, disableReason: "gone")
            }
            #expect(decision.disableReason == "gone")
            #expect(try await store.endpoint("we_1")?.disabledAt == F.t0 + 1101)
            try await store.releaseAllDeliveries(owner: "C")
            #expect(try await claim("D", at: F.t0 + 1200).allSatisfy { $0.endpointId == "we_2" })
        }
    }

    /// An endpoint deleted while one of its deliveries is being attempted takes the delivery with
    /// it; the attempt's outcome then has nothing to be recorded on, and that is not an error.
    @Test(arguments: StoreBackends.all)
    func anAttemptOnADeliveryWhoseEndpointWasDeletedRecordsNothing(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            #expect(try await store.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await store.recordEvents([WebhookEvents.event(.operationFailed, merchantId: "m1", data: [:])], now: F.t0)
            let claimed = try await store.claimDeliveries(
                now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 1000, owner: "A", limit: 1,
                perEndpointLimit: 1, inFlight: [:])
            let delivery = try #require(claimed.first)
            #expect(try await store.deleteEndpoint("we_1"))
            let attempt = WebhookAttempt(at: F.t0 + 10, status: 200, durationMs: 3, response: nil, error: nil)
            let decision = try await store.recordAttempt(attempt, of: delivery, now: F.t0 + 10) { _ in
                DeliveryDecision(state: .delivered, nextAttemptAt: nil, failingSince: nil, disableReason: nil)
            }
            #expect(decision.state == .delivered)
            #expect(try await store.endpoint("we_1") == nil)
        }
    }

    @Test(arguments: StoreBackends.all)
    func retentionPurgesWhatIsPastItsWindowAndKeepsUnfinishedWork(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let key = InboundKey(apiKeyId: "key_1", key: "old")
            _ = try await store.claim(key, requestHash: "h", now: F.t0, retention: Self.day, lease: 1, heldElsewhere: { false })
            _ = try await store.claim(
                InboundKey(apiKeyId: "key_1", key: "new"), requestHash: "h", now: F.t0 + Self.day, retention: Self.day,
                lease: 1, heldElsewhere: { false })
            _ = try await store.submit(F.submission(F.operation("op_done")))
            _ = try await store.submit(F.submission(F.operation("op_queued", merchant: "m2")))
            try await store.finish([F.success("op_done")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            let job = try #require(
                try await store.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 10, limit: 2, excluding: [])
                    .first { $0.merchantId == "m1" })
            try await store.release(job, .idle(now: F.t0), calls: [])

            #expect(try await store.purgeInboundRequests(before: F.t0 + 1, limit: 10) == 1)
            #expect(try await store.purgeOperations(endedBefore: F.t0 + 1, limit: 10) == 1)
            #expect(try await store.purgeIdleJobs(limit: 10) == 1)
            #expect(try await store.operation("op_done") == nil)
            #expect(try await store.operation("op_queued")?.state == .queued)
            #expect(
                try await store.claim(
                    InboundKey(apiKeyId: "key_1", key: "new"), requestHash: "h", now: F.t0 + Self.day,
                    retention: Self.day, lease: 1, heldElsewhere: { true }) != .claimed)
            #expect(try await store.purgeOperations(endedBefore: F.t0 + 10 * Self.day, limit: 10) == 0)
            #expect(try await store.gauges().operationsByState["queued"] == 1)
        }
    }
    /// The counts behind /metrics and the queue bound follow every change, also those of many
    /// operations at once (a round's endings, a purge), on either store.
    @Test(arguments: StoreBackends.all)
    func theCountsByStateFollowChangesOfManyOperationsAtOnce(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            func counts() async throws -> [String: Int] { try await store.gauges().operationsByState.filter { $0.value != 0 } }
            for index in 0..<6 { _ = try await store.submit(F.submission(F.operation("op_\(index)", merchant: "m\(index % 2)"))) }
            #expect(try await counts() == ["queued": 6])
            try await store.finish(
                [F.success("op_0"), F.success("op_1"), F.failure("op_2"), F.success("op_0")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            #expect(try await counts() == ["queued": 3, "succeeded": 2, "failed": 1])
            // Ended already: nothing changes, and nothing is counted twice.
            try await store.finish([F.failure("op_0"), F.success("op_3")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            #expect(try await counts() == ["queued": 2, "succeeded": 3, "failed": 1])
            #expect(try await store.purgeOperations(endedBefore: F.t0 + 1, limit: 10) == 4)
            #expect(try await counts() == ["queued": 2])
        }
    }
}
