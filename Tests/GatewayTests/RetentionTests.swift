import ChildProcess
import Foundation
import Rokt
import RoktSandbox
import Store
import Testing
@testable import Gateway

/// The retention sweep on a real SQLite file with a moved clock: rows past their window go,
/// newer rows and rows still referenced stay, the operation counts stay equal to the table.
@Suite struct RetentionTests {
    static let day: Duration = .seconds(86_400)

    /// A fresh store in a temporary directory, as the gateway opens it.
    struct Store: Sendable {
        let directory: String
        var path: String { directory + "/gateway.sqlite3" }

        init() throws {
            directory = NSTemporaryDirectory() + "retention-tests-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        func open() throws -> Database {
            // As the gateway does: before any other connection has the file open.
            try IncrementalVacuum.enable(path: path)
            return try Database.open(path: path, migrations: Schema.migrations)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func operation(_ id: String, at now: Int64, merchant: String = "m1") -> StoredOperation {
        let write = SingleWrite(
            kind: .page, lane: "pages", method: "POST", path: "/v1/partnership/accounts/\(merchant)/pages",
            body: .object(["name": .string(String(repeating: "x", count: 2000))]))
        return StoredOperation(
            id: id, type: "page.create", merchantId: merchant, resource: write.resource, state: .queued, changed: nil,
            attempts: 0, createdAt: now, updatedAt: now, request: .object([:]), intent: .single(write), result: nil,
            error: nil, apiKeyId: nil)
    }

    static func call(_ key: String, at now: Int64) -> String {
        #"{"at":\#(now),"durationMs":3,"idempotencyKey":"\#(key)","method":"POST","path":"/p","requestId":"req-\#(key)","status":201}"#
    }

    /// Operations `ids` queued, run, and ended together at `now` with one shared result and call.
    static func endTogether(_ ids: [String], at now: Int64, in database: Database) async throws {
        try await database.write { db in
            for id in ids {
                let operation = Self.operation(id, at: now)
                try OperationRecords.insert(operation, encoded: .init(operation), in: db)
            }
            try OperationRecords.markRunning(ids, now: now, in: db)
            try OperationRecords.appendCall(Self.call("key-\(ids[0])", at: now), to: ids, in: db)
            let result = try OperationRecords.insertResult(#"{"pageId":"\#(ids[0])"}"#, in: db)
            for id in ids { try OperationRecords.finish(id, succeeded: true, changed: true, resultId: result, error: nil, now: now, in: db) }
        }
    }

    static func count(_ table: String, in database: Database) async throws -> Int {
        try await database.read { db in try db.queryOne("SELECT COUNT(*) FROM \(table)")!.get(0, as: Int.self) }
    }

    /// The gauges' counts and a count over the table must agree.
    static func expectCountsMatchTable(_ database: Database) async throws {
        let (kept, counted) = try await database.read { db in
            var counted: [String: Int] = [:]
            for row in try db.query("SELECT state, COUNT(*) FROM operations GROUP BY state") { counted[try row.get(0)] = try row.get(1) }
            return (try GaugeRecords.read(in: db).operationsByState.filter { $0.value != 0 }, counted)
        }
        #expect(kept == counted)
    }

    static func sweeper(_ database: Database, _ clock: ManualWallClock, batch: Int = 500) -> RetentionSweeper {
        var configuration = RetentionConfiguration()
        configuration.batchSize = batch
        return RetentionSweeper(store: SQLiteGatewayStore(database: database), clock: clock, configuration: configuration)
    }

    @Test func operationsAndTheirLogsGoAfterTheWindowWhileSharedResultsStayReferenced() async throws {
        let store = try Store()
        defer { store.remove() }
        let clock = ManualWallClock()
        var database = try store.open()
        let t0 = clock.nowMillis()
        // A merged write: an old and a newer operation share one result and one call.
        try await Self.endTogether(["op_old_a", "op_old_b"], at: t0, in: database)
        try await database.write { db in
            for id in ["op_old_b"] { try db.run("UPDATE operations SET updated_at = ? WHERE id = ?", [t0 + 20 * Self.day.milliseconds, id]) }
            let queued = Self.operation("op_queued_old", at: t0)
            try OperationRecords.insert(queued, encoded: .init(queued), in: db)
        }
        clock.advance(by: Self.day * 31)
        try await Self.endTogether(["op_new"], at: clock.nowMillis(), in: database)

        // Batches of one: the sweep goes on until a batch comes back short.
        let first = try await Self.sweeper(database, clock, batch: 1).sweep()
        #expect(first.operations == 1)
        let remaining = try await database.read { db in try db.query("SELECT id FROM operations ORDER BY id").map { try $0.get(0, as: String.self) } }
        #expect(remaining == ["op_new", "op_old_b", "op_queued_old"])  // unfinished work is never purged
        // The shared result and call survive: op_old_b still refers to them.
        #expect(try await Self.count("results", in: database) == 2)
        #expect(try await Self.count("upstream_calls", in: database) == 2)
        #expect(try await Self.count("operation_calls", in: database) == 2)
        try await Self.expectCountsMatchTable(database)

        // Across a restart the counts are what the table holds.
        await database.close()
        database = try store.open()
        try await Self.expectCountsMatchTable(database)

        clock.advance(by: Self.day * 31)
        let second = try await Self.sweeper(database, clock).sweep()
        #expect(second.operations == 2)
        #expect(try await Self.count("operations", in: database) == 1)
        #expect(try await Self.count("results", in: database) == 0)
        #expect(try await Self.count("upstream_calls", in: database) == 0)
        #expect(try await Self.count("operation_calls", in: database) == 0)
        try await Self.expectCountsMatchTable(database)
        let gauges = try await database.read { db in try GaugeRecords.read(in: db) }
        #expect(gauges.operationsByState == ["queued": 1, "running": 0, "succeeded": 0, "failed": 0])
        await database.close()
    }

    @Test func idempotencyRecordsGoAfter24HoursAndIdleJobsGo() async throws {
        let store = try Store()
        defer { store.remove() }
        let clock = ManualWallClock()
        let database = try store.open()
        let t0 = clock.nowMillis()
        try await database.write { db in
            _ = try InboundRecords.claim(
                apiKeyId: "key_1", key: "old", requestHash: "h", now: t0, retention: Self.day.milliseconds,
                lease: 60_000, heldElsewhere: { false }, in: db)
            try JobRecords.markDue(merchantId: "m1", resource: "controls", at: t0, in: db)  // due: stays
            try JobRecords.markDue(merchantId: "m2", resource: "controls", at: t0, in: db)
            try JobRecords.release(ClaimedJob(merchantId: "m2", resource: "controls", attempts: 0), dueAt: nil, attempts: 0, in: db)
        }
        clock.advance(by: .seconds(23 * 3600))
        try await database.write { db in
            _ = try InboundRecords.claim(
                apiKeyId: "key_1", key: "new", requestHash: "h", now: clock.nowMillis(), retention: Self.day.milliseconds,
                lease: 60_000, heldElsewhere: { false }, in: db)
        }
        clock.advance(by: .seconds(3600 + 1))
        let report = try await Self.sweeper(database, clock).sweep()
        #expect(report.inboundRequests == 1)
        #expect(report.jobs == 1)
        let keys = try await database.read { db in try db.query("SELECT idempotency_key FROM inbound_requests").map { try $0.get(0, as: String.self) } }
        #expect(keys == ["new"])
        let jobs = try await database.read { db in try db.query("SELECT merchant_id FROM jobs").map { try $0.get(0, as: String.self) } }
        #expect(jobs == ["m1"])
        await database.close()
    }

    @Test func endedWebhookDeliveriesAndTheirEventsGoAfterTheWindowPendingOnesStay() async throws {
        let store = try Store()
        defer { store.remove() }
        let clock = ManualWallClock()
        let database = try store.open()
        let t0 = clock.nowMillis()
        let events = try await database.write { db -> [String] in
            try WebhookRecords.insert(
                WebhookEndpoint(
                    id: "we_1", url: "https://partner.example.com/hook", events: nil, description: nil,
                    secretKey: [1, 2, 3], previousSecretKey: nil, previousSecretExpiresAt: nil, createdAt: t0,
                    updatedAt: t0, failingSince: nil, disabledAt: nil, disabledReason: nil), in: db)
            let delivered = try WebhookRecords.record(WebhookEvents.event(.operationSucceeded, merchantId: "m1", data: [:]), at: t0, in: db)!
            let pending = try WebhookRecords.record(WebhookEvents.event(.operationFailed, merchantId: "m1", data: [:]), at: t0, in: db)!
            try db.run("UPDATE webhook_deliveries SET state = 'delivered', due_at = NULL, attempts = 1, updated_at = ? WHERE event_id = ?", [t0, delivered])
            try db.run(
                """
                INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms) SELECT id, ?, 200, 5 FROM webhook_deliveries WHERE event_id = ?
                """, [t0, delivered])
            return [delivered, pending]
        }
        clock.advance(by: Self.day * 29)
        #expect(try await Self.sweeper(database, clock).sweep().webhookDeliveries == 0)
        clock.advance(by: Self.day * 2)
        let report = try await Self.sweeper(database, clock).sweep()
        #expect(report.webhookDeliveries == 1)
        #expect(report.webhookEvents == 1)
        let left = try await database.read { db in try db.query("SELECT id FROM webhook_events").map { try $0.get(0, as: String.self) } }
        #expect(left == [events[1]])  // still due: kept whatever its age
        #expect(try await Self.count("webhook_deliveries", in: database) == 1)
        #expect(try await Self.count("webhook_attempts", in: database) == 0)
        await database.close()
    }

    @Test func freedPagesGoBackToTheFileSystemEvenInAFileCreatedBeforeIncrementalVacuum() async throws {
        let store = try Store()
        defer { store.remove() }
        let clock = ManualWallClock()
        // A file as earlier versions left it: full auto-vacuum off.
        var database = try Database.open(path: store.path, migrations: Schema.migrations)
        #expect(try await database.read { db in try db.queryOne("PRAGMA auto_vacuum")!.get(0, as: Int.self) } == 0)
        await database.close()
        database = try store.open()
        #expect(try await database.read { db in try db.queryOne("PRAGMA auto_vacuum")!.get(0, as: Int.self) } == 2)
        for batch in 0..<10 {
            try await Self.endTogether((0..<50).map { "op_\(batch)_\($0)" }, at: clock.nowMillis(), in: database)
        }
        let pagesBefore = try await database.read { db in try db.queryOne("PRAGMA page_count")!.get(0, as: Int.self) }
        clock.advance(by: Self.day * 31)
        let report = try await Self.sweeper(database, clock, batch: 100).sweep()
        #expect(report.operations == 500)
        #expect(report.pagesReclaimed > 100)
        let (pagesAfter, free) = try await database.read { db in
            (try db.queryOne("PRAGMA page_count")!.get(0, as: Int.self), try db.queryOne("PRAGMA freelist_count")!.get(0, as: Int.self))
        }
        #expect(free == 0)
        #expect(pagesAfter < pagesBefore / 4)
        await database.close()
    }

    /// The app runs the sweep itself: a month later the operation is gone and `/metrics` agrees.
    @Test func theRunningGatewaySweepsOnItsOwn() async throws {
        let clock = ManualWallClock()
        try await withGateway(
            clock: clock,
            configure: { configuration in
                configuration.retention.firstSweepDelay = .zero
                configuration.retention.interval = .milliseconds(20)
            }
        ) { gateway in
            let created = try await gateway.call(
                .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains",
                json: #"{"domain":"retained.example"}"#)
            #expect(created.status == 200)
            let id = try #require(created["id"]?.stringValue)
            var metrics = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(metrics.contains(#"rokt_gateway_operations{state="succeeded"} 1"#))
            #expect(metrics.contains(#"rokt_gateway_retention_purged_total{kind="operations"} 0"#))
            clock.advance(by: Self.day * 31)
            #expect(try await eventually { try await gateway.call(.get, "/v1/operations/\(id)").status == 404 })
            metrics = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(metrics.contains(#"rokt_gateway_operations{state="succeeded"} 0"#))
            // Counted once the sweep that deleted it has finished.
            let purged = #"rokt_gateway_retention_purged_total{kind="operations"} 1"#
            #expect(try await eventually { try await gateway.call(.get, "/metrics", anonymous: true).text.contains(purged) })
        }
    }

    @Test func theOperationGaugesReadTheCountsNotTheOperationsTable() async throws {
        let store = try Store()
        defer { store.remove() }
        let database = try store.open()
        let plan = try await database.read { db in
            try db.query("EXPLAIN QUERY PLAN " + GaugeRecords.operationCountsQuery).map { try $0.get("detail", as: String.self) }
        }
        #expect(!plan.isEmpty)
        #expect(plan.allSatisfy { !$0.contains("operations") })
        await database.close()
    }

    @Test func retentionWindowsAndTheQueueBoundAreReadFromTheEnvironment() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "OPERATIONS_RETENTION": "45d", "WEBHOOK_RETENTION": "72h", "ENGINE_MAX_QUEUED_OPERATIONS": "250",
        ])
        #expect(configuration.retention.operations == .seconds(45 * 86_400))
        #expect(configuration.retention.webhooks == .seconds(72 * 3600))
        #expect(configuration.engine.maxQueuedOperations == 250)
        let defaults = try GatewayConfiguration.fromEnvironment([:])
        #expect(defaults.retention.operations == .seconds(30 * 86_400))
        #expect(defaults.retention.webhooks == .seconds(30 * 86_400))
        for (name, value) in [
            ("OPERATIONS_RETENTION", "30"), ("OPERATIONS_RETENTION", "2h"), ("WEBHOOK_RETENTION", "soon"),
            ("WEBHOOK_RETENTION", "-1d"), ("ENGINE_MAX_QUEUED_OPERATIONS", "0"),
        ] {
            #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment([name: value]) }
            do { _ = try GatewayConfiguration.fromEnvironment([name: value]) } catch { #expect(error.variable == name) }
        }
    }
}
