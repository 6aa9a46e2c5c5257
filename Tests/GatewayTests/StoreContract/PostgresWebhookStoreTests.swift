import Foundation
import JSON
import Postgres
import Testing
@testable import Gateway

/// The webhook store on PostgreSQL as several replicas use it: two store instances on one
/// database, each with its own pool, as two gateway processes would have.
@Suite(.timeLimit(.minutes(1))) struct PostgresWebhookStoreTests {
    typealias F = Fixture

    /// Runs `body` with two stores on one fresh database (and that database, to count rows).
    private func withReplicas(
        _ body: (_ a: any GatewayStore, _ b: any GatewayStore, _ database: PostgresConfiguration) async throws -> Void
    ) async throws {
        try await PostgresStoreTests.withReplicas(2) { stores, url in try await body(stores[0], stores[1], try ScratchDatabases.configuration(url)) }
    }

    private static func failure(_ merchant: String) -> NewWebhookEvent {
        WebhookEvents.event(.operationFailed, merchantId: merchant, data: [:])
    }

    @Test func concurrentClaimsOnTwoReplicasNeverLeaseADeliveryTwiceNorExceedTheEndpointBound() async throws {
        try await withReplicas { a, b, _ in
            #expect(try await a.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            #expect(try await b.createEndpoint(F.endpoint("we_2"), maxEndpoints: 5))
            _ = try await a.recordEvents((0..<30).map { _ in Self.failure("m1") }, now: F.t0)
            let replicas = [(store: a, owner: "A"), (store: b, owner: "B")]
            func claim(_ replica: Int, inFlight: [String: Int] = [:]) async throws -> [ClaimedDelivery] {
                try await replicas[replica].store.claimDeliveries(
                    now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 60_000, owner: replicas[replica].owner, limit: 10,
                    perEndpointLimit: 3, inFlight: inFlight)
            }
            // A's leases count on B: together they never hold more than 3 per endpoint.
            let first = try await claim(0, inFlight: ["we_1": 1])
            #expect(first.filter { $0.endpointId == "we_1" }.count == 2 && first.filter { $0.endpointId == "we_2" }.count == 3)
            #expect(try await claim(1).map(\.endpointId) == ["we_1"])
            #expect(try await claim(1).isEmpty)
            // A replica starting does not end the live leases of the others.
            try await b.releaseForeignDeliveryLeases(owner: "B")
            #expect(try await claim(1).isEmpty)
            try await a.releaseAllDeliveries(owner: "A")
            try await b.releaseAllDeliveries(owner: "B")

            // Sixteen claims at once, alternating replicas: each delivery leased once, 3 per endpoint in all.
            let racing = try await withThrowingTaskGroup(of: [ClaimedDelivery].self) { group in
                for index in 0..<16 { group.addTask { try await claim(index % 2) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let settled = try await claim(0) + claim(1)
            let all = racing + settled
            #expect(Set(all.map(\.id)).count == all.count)
            #expect(all.filter { $0.endpointId == "we_1" }.count == 3 && all.filter { $0.endpointId == "we_2" }.count == 3)
        }
    }

    @Test func concurrentTransactionsOfOneMerchantOnTwoReplicasNumberItsEventsWithoutAGap() async throws {
        try await withReplicas { a, b, _ in
            #expect(try await a.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            let batches = try await withThrowingTaskGroup(of: [String?].self) { group in
                for index in 0..<4 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask { try await store.recordEvents((0..<25).map { _ in Self.failure("m1") }, now: F.t0) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let log = try #require(try await b.deliveries(endpointId: "we_1", limit: 200, after: nil))
            let sequenceOf = Dictionary(uniqueKeysWithValues: log.map { ($0.eventId, $0.sequence) })
            #expect(log.map(\.sequence).sorted() == Array(1...100))
            // One transaction's events are numbered one after the other: the merchant's counter is held to commit.
            for batch in batches {
                let numbers = batch.compactMap { $0.flatMap { sequenceOf[$0] } }
                #expect(numbers.count == 25 && numbers == Array(numbers[0]..<numbers[0] + 25))
            }
        }
    }

    @Test func oneFactRecordedOnTwoReplicasAtOnceIsStoredOnceAndTakesOneNumber() async throws {
        try await withReplicas { a, b, _ in
            #expect(try await a.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            let fact = WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: ["operationId": .string("op_0190000000001234")])
            let answers = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<8 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask { try await store.recordEvents([fact, Self.failure("m1")], now: F.t0)[0] }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers == Array(repeating: fact.factId, count: 8))
            let log = try #require(try await a.deliveries(endpointId: "we_1", limit: 100, after: nil))
            #expect(log.filter { $0.eventId == fact.factId }.count == 1)
            #expect(log.map(\.sequence).sorted() == Array(1...9))
        }
    }

    @Test func retentionOnOneReplicaPurgesOnlyEndedDeliveriesAndUnreferencedEvents() async throws {
        try await withReplicas { a, b, _ in
            #expect(try await a.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await a.recordEvents((0..<4).map { _ in Self.failure("m1") }, now: F.t0)
            let claimed = try await a.claimDeliveries(
                now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 60_000, owner: "A", limit: 3, perEndpointLimit: 3, inFlight: [:])
            let all = try #require(try await a.deliveries(endpointId: "we_1", limit: 10, after: nil))
            #expect(claimed.count == 3 && all.count == 4)
            // One delivered, one given up, one still leased by A, one never attempted.
            for (delivery, state) in zip(claimed, [DeliveryDecision.State.delivered, .failed]) {
                let attempt = WebhookAttempt(at: F.t0 + 1, status: 200, durationMs: 1, response: nil, error: nil)
                _ = try await a.recordAttempt(attempt, of: delivery, now: F.t0 + 1) { _ in
                    DeliveryDecision(state: state, nextAttemptAt: nil, failingSince: nil, disableReason: nil)
                }
            }
            let later = F.t0 + 10 * StoreContractTests.day
            #expect(try await b.purgeWebhookDeliveries(endedBefore: later, limit: 10) == 2)
            #expect(try await b.purgeWebhookDeliveries(endedBefore: later, limit: 10) == 0)
            #expect(try await b.purgeWebhookEvents(before: later, limit: 10) == 2)
            let kept = try #require(try await b.deliveries(endpointId: "we_1", limit: 10, after: nil))
            #expect(Set(kept.map(\.id)) == Set(all.map(\.id)).subtracting(claimed.prefix(2).map(\.id)))
            #expect(try await b.gauges().pendingWebhookDeliveries == 2)
            #expect(try await b.reclaimFreeSpace(pages: 100) == (0, 0))
        }
    }

    @Test func concurrentAttemptsToOneEndpointOnTwoReplicasSeeEachOthersFailureStreak() async throws {
        try await withReplicas { a, b, _ in
            #expect(try await a.createEndpoint(F.endpoint("we_1"), maxEndpoints: 5))
            _ = try await a.recordEvents((0..<6).map { _ in Self.failure("m1") }, now: F.t0)
            let claimed = try await a.claimDeliveries(
                now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 60_000, owner: "A", limit: 6, perEndpointLimit: 6, inFlight: [:])
            #expect(claimed.count == 6)
            // Each failure starts a streak at its own time unless one is running: one streak in all.
            let streaks = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for (index, delivery) in claimed.enumerated() {
                    let store = index % 2 == 0 ? a : b
                    let now = F.t0 + 10 + Int64(index)
                    group.addTask {
                        let attempt = WebhookAttempt(at: now, status: 503, durationMs: 1, response: nil, error: nil)
                        return try await store.recordAttempt(attempt, of: delivery, now: now) { streak in
                            DeliveryDecision(state: .pending, nextAttemptAt: now + 1000, failingSince: streak ?? now, disableReason: nil)
                        }.failingSince
                    }
                }
                return try await group.reduce(into: Set<Int64?>()) { $0.insert($1) }
            }
            let endpoint = try #require(try await b.endpoint("we_1"))
            #expect(streaks.count == 1 && streaks.first == endpoint.failingSince)
        }
    }

    @Test func endpointsOnTwoReplicasKeepTheirLimitAndTheDeliveryLogAndRedeliveryWork() async throws {
        try await withReplicas { a, b, _ in
            // Creations racing on both replicas never exceed the limit.
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask { try await store.createEndpoint(F.endpoint("we_\(index)"), maxEndpoints: 3) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(created == 3)
            let endpoints = try await b.endpoints()
            #expect(endpoints.count == 3)
            let id = try #require(endpoints.first?.id)
            let rotated = try #require(try await a.rotateSecret(id, newKey: [9, 9], previousExpiresAt: F.t0 + 5, now: F.t0 + 1))
            #expect(rotated.secretKey == [9, 9] && rotated.previousSecretKey == [1, 2, 3] && rotated.previousSecretExpiresAt == F.t0 + 5)

            _ = try await a.recordEvents([Self.failure("m1"), Self.failure("m1")], now: F.t0)
            let claimed = try #require(
                try await a.claimDeliveries(
                    now: F.t0, firstDelay: 0, leaseUntil: F.t0 + 60_000, owner: "A", limit: 10, perEndpointLimit: 1, inFlight: [:]
                ).first { $0.endpointId == id })
            let attempt = WebhookAttempt(at: F.t0 + 2, status: 503, durationMs: 7, response: "busy", error: nil)
            _ = try await a.recordAttempt(attempt, of: claimed, now: F.t0 + 3) { _ in
                DeliveryDecision(state: .pending, nextAttemptAt: F.t0 + 1000, failingSince: F.t0 + 3, disableReason: nil)
            }
            let page = try #require(try await b.deliveries(endpointId: id, limit: 1, after: nil))
            let rest = try #require(try await b.deliveries(endpointId: id, limit: 5, after: page.last?.id))
            let attempted = try #require((page + rest).first { $0.id == claimed.id })
            #expect(page.count == 1 && rest.count == 1)
            #expect(attempted.attempts == [attempt] && attempted.attemptCount == 1 && attempted.nextAttemptAt == F.t0 + 1000)
            #expect(try await b.deliveries(endpointId: "we_none", limit: 5, after: nil) == nil)

            let commits = CommitRecorder(a)
            defer { commits.cancel() }
            guard case .created(let again) = try await b.redeliver(claimed.id, now: F.t0 + 5) else {
                Issue.record("no new delivery")
                return
            }
            #expect(again.eventId == claimed.eventId && again.attemptCount == 0 && again.nextAttemptAt == F.t0 + 5)
            // The other replica hears of it.
            #expect(await commits.next { $0 == .deliveriesDue } == .deliveriesDue)
            guard case .noDelivery = try await b.redeliver("whd_none", now: F.t0 + 5) else {
                Issue.record("redelivered a delivery that does not exist")
                return
            }
            #expect(try await a.deleteEndpoint(id))
            #expect(try await b.deleteEndpoint(id) == false)
            #expect(try await a.deliveries(endpointId: id, limit: 5, after: nil) == nil)
        }
    }

    @Test func purgedOperationsTakeTheirSharedResultAndCallOnlyWithTheLastOneReferringToThem() async throws {
        try await withReplicas { a, b, database in
            for id in ["op_1", "op_2"] { _ = try await a.submit(F.submission(F.operation(id))) }
            let call = LoggedCall(call: try F.call("req-1"), operationIds: ["op_1", "op_2"])
            try await a.finish([F.success("op_1"), F.success("op_2")], deletePendingWriteOf: nil, now: F.t0, calls: [call])
            func rows(_ table: String) async throws -> Int64 {
                let connection = try await PostgresConnection.connect(database)
                let count = try await connection.query("SELECT count(*) AS n FROM \(table)").rows.first?.int64("n")
                await connection.close()
                return count ?? -1
            }
            func shared() async throws -> [Int64] { [try await rows("results"), try await rows("upstream_calls"), try await rows("operation_calls")] }
            #expect(try await b.purgeOperations(endedBefore: F.t0 + 1, limit: 1) == 1)
            let remaining = try await a.operation("op_1") == nil ? "op_2" : "op_1"
            let kept = try #require(try await a.operation(remaining))
            #expect(kept.result != nil)
            #expect(try await a.calls(of: remaining).count == 1)
            #expect(try await shared() == [1, 1, 1])
            #expect(try await b.purgeOperations(endedBefore: F.t0 + 1, limit: 1) == 1)
            #expect(try await shared() == [0, 0, 0])
            #expect(try await b.gauges().operationsByState["succeeded"] == 0)
        }
    }
}
