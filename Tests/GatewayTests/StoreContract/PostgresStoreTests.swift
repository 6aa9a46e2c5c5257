import ChildProcess
import Postgres
import Synchronization
import Testing
@testable import Gateway

/// What sharing one PostgreSQL database between replicas adds to the store contract: several
/// `PostgresGatewayStore` instances on one database stand for the replicas.
@Suite(.timeLimit(.minutes(1))) struct PostgresStoreTests {
    typealias F = Fixture

    /// `count` stores opened on one fresh database, closed afterwards.
    static func withReplicas(_ count: Int, poolSize: Int = 3, _ body: ([PostgresGatewayStore], _ url: String) async throws -> Void) async throws {
        try await StoreBackends.postgres.withLocation { url in
            var stores: [PostgresGatewayStore] = []
            do {
                for _ in 0..<count { stores.append(try await ScratchDatabases.open(url, poolSize: poolSize)) }
                try await body(stores, url)
            } catch {
                for store in stores { await store.close() }
                throw error
            }
            for store in stores { await store.close() }
        }
    }

    /// Every notice a store's feed published, to wait for one without sleeping.
    final class Notices: Sendable {
        private final class Seen: Sendable { let list = Mutex<[StoreCommit]>([]) }
        private let seen = Seen()
        private let observation: CommitObservation

        init(_ feed: any CommitFeed) {
            observation = feed.observe { [seen] commit in seen.list.withLock { $0.append(commit) } }
        }

        var all: [StoreCommit] { seen.list.withLock { $0 } }
        func count(of commit: StoreCommit) -> Int { all.filter { $0 == commit }.count }
        func cancel() { observation.cancel() }
    }

    /// Two replicas on one database, each with a recorder of the notices it hears.
    static func withTwoReplicasHearing(
        _ body: (PostgresGatewayStore, PostgresGatewayStore, Notices, Notices) async throws -> Void
    ) async throws {
        try await withReplicas(2) { stores, _ in
            let (onA, onB) = (Notices(stores[0]), Notices(stores[1]))
            defer { onA.cancel(); onB.cancel() }
            try await body(stores[0], stores[1], onA, onB)
        }
    }

    @Test func replicasStartingTogetherOnAnEmptyDatabaseMigrateItOnce() async throws {
        try await StoreBackends.postgres.withLocation { url in
            let stores = try await withThrowingTaskGroup(of: PostgresGatewayStore.self) { group in
                for _ in 0..<6 { group.addTask { try await ScratchDatabases.open(url, poolSize: 1) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for store in stores {
                #expect(try await store.schemaVersion() == PostgresSchema.latestVersion)
            }
            let versions = try await stores[0].read { db in
                try await db.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.int("version") }
            }
            #expect(versions == PostgresSchema.migrations.map(\.version))
            for store in stores { await store.close() }
        }
    }

    @Test func aDatabaseANewerReleaseMigratedIsRefusedNamingBothVersions() async throws {
        try await Self.withReplicas(1) { stores, url in
            _ = try await stores[0].transaction { db, _ in
                try await db.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
            }
            let refusal = PostgresSchemaTooNew(found: 99, known: PostgresSchema.latestVersion)
            await #expect(throws: refusal) { _ = try await ScratchDatabases.open(url) }
            #expect(refusal.description.contains("version 99") && refusal.description.contains("up to \(PostgresSchema.latestVersion)"))
        }
    }

    @Test func twoReplicasClaimingAtOnceNeverLeaseOneJobTwice() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let merchants = (0..<40).map { "m\($0)" }
            for merchant in merchants { _ = try await stores[0].submit(F.submission(F.operation("op_\(merchant)", merchant: merchant))) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for (index, store) in stores.enumerated() {
                    for worker in 0..<3 {
                        group.addTask {
                            var mine: [String] = []
                            while true {
                                let batch = try await store.claimJobs(
                                    owner: "replica-\(index)", now: F.t0, leaseUntil: F.t0 + 60_000, limit: 3 + worker, excluding: [])
                                if batch.isEmpty { return mine }
                                mine += batch.map(\.merchantId)
                            }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.sorted() == merchants.sorted())
        }
    }

    @Test func aReplicaWhoseLeasePassedToAnotherCannotWriteForTheJob() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let (a, b) = (stores[0], stores[1])
            _ = try await a.submit(F.submission(F.operation("op_a")))
            let job = ClaimedJobKey(merchantId: "m1", resource: "status")
            let first = try #require(try await a.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 1000, limit: 1, excluding: []).first)
            // A stalls past its lease; B takes the job over.
            let second = try #require(try await b.claimJobs(owner: "B", now: F.t0 + 1000, leaseUntil: F.t0 + 2000, limit: 1, excluding: []).first)
            await #expect(throws: LeaseLost(job: job, owner: "A")) { try await a.begin(F.write(for: ["op_a"]), now: F.t0 + 1001, calls: []) }
            #expect(try await a.pendingWrite(merchantId: "m1", resource: "status") == nil)
            #expect(try await a.operation("op_a")?.state == .queued)
            // The stale run's release is refused too: B keeps its lease, and A cannot take the job back.
            await #expect(throws: LeaseLost(job: job, owner: "A")) {
                try await a.release(first, .retry(dueAt: F.t0 + 1500, attempts: 1, expired: [], deletePendingWrite: false, now: F.t0 + 1001), calls: [])
            }
            #expect(try await a.claimJobs(owner: "A", now: F.t0 + 1003, leaseUntil: F.t0 + 3000, limit: 1, excluding: []).isEmpty)
            #expect(try await a.hasClaimableJobs(now: F.t0 + 1999, excluding: []) == false)
            try await b.begin(F.write(for: ["op_a"]), now: F.t0 + 1002, calls: [])
            try await b.finish([F.success("op_a")], deletePendingWriteOf: job, now: F.t0 + 1004, calls: [])
            try await b.release(second, .idle(now: F.t0 + 1005), calls: [])
            #expect(try await a.operation("op_a")?.state == .succeeded)
            #expect(try await a.nextJobDue() == nil)
        }
    }

    @Test func aFencedFinishAndRenewChangeNothing() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let (a, b) = (stores[0], stores[1])
            _ = try await a.submit(F.submission(F.operation("op_a")))
            let job = ClaimedJobKey(merchantId: "m1", resource: "status")
            let first = try #require(try await a.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 1000, limit: 1, excluding: []).first)
            try await a.begin(F.write(for: ["op_a"]), now: F.t0 + 1, calls: [LoggedCall(call: try F.call("req-1"), operationIds: ["op_a"])])
            _ = try #require(try await b.claimJobs(owner: "B", now: F.t0 + 1000, leaseUntil: F.t0 + 2000, limit: 1, excluding: []).first)
            let lost = LeaseLost(job: job, owner: "A")
            await #expect(throws: lost) {
                try await a.finish(
                    [F.success("op_a")], deletePendingWriteOf: job, now: F.t0 + 1001,
                    calls: [LoggedCall(call: try F.call("req-2"), operationIds: ["op_a"])])
            }
            #expect(try await a.operation("op_a")?.state == .running)
            #expect(try await a.pendingWrite(merchantId: "m1", resource: "status") != nil)
            #expect(try await a.calls(of: "op_a").map(\.requestId) == ["req-1"])
            await #expect(throws: lost) { try await a.renew(first, owner: "A", leaseUntil: F.t0 + 9000, calls: []) }
            #expect(try await b.claimJobs(owner: "C", now: F.t0 + 2000, leaseUntil: F.t0 + 3000, limit: 1, excluding: []).count == 1)
        }
    }

    /// A submit on a job already due does not lock its row against other submits, only against a
    /// run ending the job's due time: that release waits for the submit, then sees its operation.
    @Test func anIdleReleaseWaitsForASubmitInFlightOnItsJobAndKeepsItDue() async throws {
        try await Self.withReplicas(1) { stores, url in
            let a = stores[0]
            _ = try await a.submit(F.submission(F.operation("op_a")))
            let job = try #require(try await a.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 60_000, limit: 1, excluding: []).first)
            try await a.finish([F.success("op_a")], deletePendingWriteOf: nil, now: F.t0 + 1, calls: [])
            // Another replica's submit on the job, between its statements and its COMMIT.
            let submitter = try await PostgresConnection.connect(try ScratchDatabases.configuration(url))
            try await submitter.simpleQuery("BEGIN")
            let late = F.operation("op_b", at: F.t0 + 2)
            try await PostgresOperationRecords.insert(late, encoded: OperationRecords.Encoded(late), in: submitter)
            try await PostgresJobRecords.markDue(ClaimedJobKey(job), at: late.createdAt, in: submitter)
            let release = Task { try await a.release(job, .idle(now: F.t0 + 3), calls: []) }
            let waitingOnALock = "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            #expect(await eventually { (try? await a.read { db in try await db.query(waitingOnALock).rows.first?.int("n") }) == 1 })
            try await submitter.simpleQuery("COMMIT")
            try await release.value
            await submitter.close()
            #expect(try await a.nextJobDue() == F.t0 + 3)
        }
    }

    /// A submit sends its statements and COMMIT in one round trip; when a purge deletes its idle
    /// job's row between its INSERT (which found the row) and its lock, the server refuses it
    /// (`gateway_require`), nothing commits, and the submit stores the operation on a fresh row.
    @Test func aSubmitWhoseJobRowIsPurgedMidWayIsStoredAndLeavesTheJobDue() async throws {
        try await Self.withReplicas(1) { stores, url in
            let a = stores[0]
            _ = try await a.submit(F.submission(F.operation("op_a")))
            let job = try #require(try await a.claimJobs(owner: "A", now: F.t0, leaseUntil: F.t0 + 60_000, limit: 1, excluding: []).first)
            try await a.finish([F.success("op_a")], deletePendingWriteOf: nil, now: F.t0 + 1, calls: [])
            try await a.release(job, .idle(now: F.t0 + 2), calls: [])
            #expect(try await a.nextJobDue() == nil)
            // The purge: it holds the idle row, so the submit's lock waits for it, then deletes it.
            let purger = try await PostgresConnection.connect(try ScratchDatabases.configuration(url))
            try await purger.simpleQuery("BEGIN")
            _ = try await purger.query("SELECT 1 FROM jobs WHERE merchant_id = 'm1' FOR UPDATE")
            let submit = Task { try await a.submit(F.submission(F.operation("op_b", at: F.t0 + 3), inboundKey: nil)) }
            let waitingOnALock = "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            #expect(await eventually { (try? await a.read { db in try await db.query(waitingOnALock).rows.first?.int("n") }) == 1 })
            _ = try await purger.query("DELETE FROM jobs WHERE merchant_id = 'm1'")
            try await purger.simpleQuery("COMMIT")
            await purger.close()
            #expect(try await submit.value == .accepted)
            #expect(try await a.operation("op_b")?.state == .queued)
            #expect(try await a.nextJobDue() == F.t0 + 3)
            #expect(try await a.gauges().operationsByState["queued"] == 1)
        }
    }

    @Test func concurrentRegistersOfOneAccountOnTwoReplicasStoreOneOperation() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let registration = MerchantRegistration(externalAccountId: "shop-1", name: "Shop")
            let outcomes = try await withThrowingTaskGroup(of: (String, SubmitOutcome).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let id = "op_\(index)"
                        return (id, try await stores[index % 2].submit(F.submission(F.operation(id, merchant: ""), registration: registration)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let accepted = outcomes.filter { if case .accepted = $0.1 { true } else { false } }.map(\.0)
            #expect(accepted.count == 1)
            for (_, outcome) in outcomes {
                if case .alreadyRegistering(let existing) = outcome { #expect(existing.id == accepted.first) }
            }
        }
    }

    @Test func concurrentClaimsOfOneIdempotencyKeyOnTwoReplicasClaimItOnce() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let key = InboundKey(apiKeyId: "key_1", key: "k-1")
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let claim = try await stores[index % 2].claim(
                            key, requestHash: "h", now: F.t0, retention: 86_400_000, lease: 60_000, heldElsewhere: { false })
                        return claim == .claimed
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(claims.filter { $0 }.count == 1)
        }
    }

    @Test func replicasStartingWithOneBootstrapKeyInstallItOnce() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let key = ApiKey(id: "key_boot", name: "bootstrap", scopes: [.admin], merchants: nil, createdAt: F.t0, revokedAt: nil)
            let changes = try await withThrowingTaskGroup(of: BootstrapKeyChange.self) { group in
                for index in 0..<6 {
                    group.addTask { try await stores[index % 2].installBootstrapKey(key, hash: "hash-boot", now: F.t0) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(changes.filter { $0 == .installed(keyId: "key_boot", replaced: nil) }.count == 1)
            #expect(changes.filter { $0 == .unchanged(keyId: "key_boot") }.count == 5)
            #expect(try await stores[1].allKeys().map(\.id) == ["key_boot"])
        }
    }

    @Test func noticesReachTheOtherReplicaThroughNotify() async throws {
        try await Self.withTwoReplicasHearing { a, b, onA, onB in
            let job = ClaimedJobKey(merchantId: "m1", resource: "status")
            _ = try await a.submit(F.submission(F.operation("op_a")))
            #expect(await eventually { onB.count(of: .jobDue(job)) == 1 })
            try await b.finish([F.success("op_a")], deletePendingWriteOf: nil, now: F.t0, calls: [])
            #expect(await eventually { onA.count(of: .operationsEnded(["op_a"])) == 1 })
            _ = try await a.submit(F.submission(F.operation("op_c", merchant: "m3")))
            #expect(await eventually { onB.count(of: .jobDue(ClaimedJobKey(merchantId: "m3", resource: "status"))) == 1 })
            // Each store has heard by now its own earlier NOTIFY come back (one channel, commit order),
            // and skipped it: it published that notice once, after COMMIT.
            #expect(onA.count(of: .jobDue(job)) == 1)
            #expect(onB.count(of: .operationsEnded(["op_a"])) == 1)
        }
    }

    /// A round's transaction counts its changes in shards no submit uses: it holds those rows
    /// until it commits, several round trips later, and a submit on the same shard waited for it.
    @Test func aRoundsUncommittedCountsLeaveEverySubmitShardFree() async throws {
        try await Self.withReplicas(1) { stores, url in
            let a = stores[0]
            for index in 0..<3 { _ = try await a.submit(F.submission(F.operation("op_\(index)"))) }
            let round = try await PostgresConnection.connect(try ScratchDatabases.configuration(url))
            try await round.simpleQuery("BEGIN")
            _ = try await round.query("UPDATE operations SET state = 'running' WHERE id IN ('op_0', 'op_1')")
            let free = try await a.read { db in
                try await db.query(
                    "SELECT count(*) AS n FROM (SELECT 1 FROM operation_counts WHERE shard < $1 FOR UPDATE SKIP LOCKED) AS free",
                    [.int64(Int64(PostgresSchema.countShards))]
                ).rows.first?.int("n")
            }
            #expect(free == 4 * PostgresSchema.countShards)
            try await round.simpleQuery("COMMIT")
            await round.close()
            #expect(try await a.gauges().operationsByState.filter { $0.value != 0 } == ["queued": 1, "running": 2])
        }
    }

    /// The engine divides its minimum concurrency by the replicas sharing the work.
    @Test func aReplicaCountsTheOthersItHearsFrom() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let (a, b) = (stores[0], stores[1])
            #expect(a.replicasWorking == 1 && b.replicasWorking == 1)
            _ = try await a.submit(F.submission(F.operation("op_a")))
            #expect(await eventually { b.replicasWorking == 2 })
            #expect(a.replicasWorking == 1)  // its own notices are not another replica
        }
    }

    /// Every replica hears every notice, so one per submit cost each replica a decode and a
    /// scheduler wake-up per operation anywhere (3 replicas accepted 0.82 of one's operations/s).
    @Test func onlyASubmitThatMakesItsJobDueIsAnnounced() async throws {
        try await Self.withTwoReplicasHearing { a, b, onA, onB in
            let job = ClaimedJobKey(merchantId: "m1", resource: "status")
            _ = try await a.submit(F.submission(F.operation("op_a")))  // a new job: due
            _ = try await b.submit(F.submission(F.operation("op_b", at: F.t0 + 1)))  // due already
            let claimed = try #require(try await a.claimJobs(owner: "A", now: F.t0 + 2, leaseUntil: F.t0 + 60_000, limit: 1, excluding: []).first)
            _ = try await b.submit(F.submission(F.operation("op_c", at: F.t0 + 3)))  // running: its release finds it
            try await a.release(claimed, .retry(dueAt: F.t0 + 5_000, attempts: 1, expired: [], deletePendingWrite: false, now: F.t0 + 4), calls: [])
            _ = try await b.submit(F.submission(F.operation("op_d", at: F.t0 + 5)))  // backing off: due sooner
            // Markers: a store sends its notices in order, so once a replica has heard the other's
            // marker it has heard every earlier notice of that store (its own it publishes itself).
            _ = try await a.submit(F.submission(F.operation("op_e", merchant: "m3", at: F.t0 + 6)))
            _ = try await b.submit(F.submission(F.operation("op_f", merchant: "m4", at: F.t0 + 6)))
            #expect(await eventually { onA.count(of: .jobDue(ClaimedJobKey(merchantId: "m4", resource: "status"))) == 1 })
            #expect(await eventually { onB.count(of: .jobDue(ClaimedJobKey(merchantId: "m3", resource: "status"))) == 1 })
            #expect(onA.count(of: .jobDue(job)) == 2)
            #expect(onB.count(of: .jobDue(job)) == 2)
            #expect(try await a.nextJobDue() == F.t0 + 5)
        }
    }

    @Test func theListenerReconnectsAfterItsSessionIsTerminatedAndAsksObserversToReread() async throws {
        try await Self.withReplicas(2) { stores, _ in
            let (a, b) = (stores[0], stores[1])
            #expect(await eventually { a.listener.processID != nil })
            let session = try #require(a.listener.processID)
            let onA = Notices(a)
            defer { onA.cancel() }
            let terminated = try await b.read { db in
                try await db.query("SELECT pg_terminate_backend($1) AS done", [.int32(session)]).rows.first?[0].bool
            }
            #expect(terminated == true)
            #expect(await eventually { a.listener.processID.map { $0 != session } ?? false })
            #expect(await eventually { onA.all.contains(.deliveriesDue) && onA.all.contains(.apiKeysChanged) })
            _ = try await b.submit(F.submission(F.operation("op_a")))
            #expect(await eventually { onA.all.contains(.jobDue(ClaimedJobKey(merchantId: "m1", resource: "status"))) })
        }
    }
}
