import ChildProcess
import Foundation
import HTTP
import JSON
import Postgres
import RoktSandbox
import Testing
@testable import Gateway

/// The gateway end to end on PostgreSQL, in `swift test` (scripts/test-postgres.sh runs every
/// end-to-end test there): one gateway, and two replicas sharing one database and one sandbox,
/// as behind a load balancer. Each gateway is a real `GatewayApp` on its own port.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PostgresEndToEndTests {
    static let m1 = SandboxDemo.merchant1
    static let m2 = SandboxDemo.merchant2

    /// A first gateway on a fresh PostgreSQL database, and `replicas` more on the same one.
    func withReplicas(
        _ count: Int, configure: @escaping (inout GatewayConfiguration) -> Void = { _ in }, _ body: ([GatewayHarness]) async throws -> Void
    ) async throws {
        let first = try await GatewayHarness.start(store: .postgres, configure: configure)
        var all = [first]
        do {
            for _ in 1..<count { all.append(try await GatewayHarness.start(replicaOf: first, configure: configure)) }
            try await body(all)
        } catch {
            for gateway in all.reversed() { await gateway.stop() }
            throw error
        }
        for gateway in all.reversed() { await gateway.stop() }
    }

    /// Budgets live in each replica's memory (README, "Rate limits"): behind a balancer a caller gets
    /// each replica's budget, and being refused by one replica costs nothing on another.
    @Test func eachReplicaHoldsItsOwnCallerBudget() async throws {
        try await withReplicas(2, configure: CallerRateLimitEndToEndTests.tightLimits) { gateways in
            let key = try await gateways[0].makeKey([.write])
            try await gateways[1].services.keyRing.refresh()
            for (index, gateway) in gateways.enumerated() {
                for attempt in 0..<2 {
                    let allowed = try await CallerRateLimitEndToEndTests.pause(gateway, key: key, idempotencyKey: "r\(index)-\(attempt)")
                    #expect([200, 202].contains(allowed.status), "\(allowed.text)")
                }
                #expect(try await CallerRateLimitEndToEndTests.pause(gateway, key: key, idempotencyKey: "r\(index)-2").status == 429)
            }
        }
    }

    static func verticals(_ gateway: GatewayHarness, _ merchant: String) -> Set<String> {
        Set(gateway.sandbox.controls(of: merchant)?.blockedVerticals.map { "\($0.partnerVerticalId)/\($0.partnerSubVerticalId)" } ?? [])
    }

    @Test func oneGatewayOnPostgreSQLAddsAVerticalWithOneGetAndOnePutAndReplaysItsKey() async throws {
        try await withReplicas(1) { gateways in
            let gateway = gateways[0]
            gateway.sandbox.resetRequestLog()
            var headers = HTTPHeaders()
            headers["Idempotency-Key"] = "pg-e2e-1"
            let body = #"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#
            let response = try await gateway.call(.post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals", json: body, headers: headers)
            #expect(response.status == 200 && response["state"] == .string("succeeded") && response["changed"] == .bool(true))
            #expect(Self.verticals(gateway, Self.m2).contains("1504/1612"))
            #expect(gateway.upstream("GET", pathSuffix: "/marketplacecontrolslists").count == 1)
            #expect(gateway.upstream("PUT", pathSuffix: "/marketplacecontrolslists").count == 1)
            let replay = try await gateway.call(.post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals", json: body, headers: headers)
            #expect(replay["id"] == response["id"] && replay.headers["Idempotent-Replayed"] == "true")
            #expect(gateway.upstream("PUT", pathSuffix: "/marketplacecontrolslists").count == 1)
            let stored = try await gateway.call(.get, "/v1/operations/\(response["id"]?.stringValue ?? "")")
            #expect(stored["state"] == .string("succeeded"))
        }
    }

    @Test func aSynchronousCallerIsAnsweredWhenAnotherReplicaRanItsOperation() async throws {
        try await withReplicas(2) { gateways in
            let (caller, runner) = (gateways[0], gateways[1])
            // The caller's replica accepts and waits but runs no jobs: the other one must.
            await caller.services.engine.shutdown(grace: .seconds(1))
            caller.sandbox.resetRequestLog()
            let response = try await caller.call(.post, "/v1/merchants/\(Self.m1)/pause")
            #expect(response.status == 200, "\(response.json)")
            #expect(response["state"] == .string("succeeded"))
            #expect(runner.sandbox.requestLog.contains { $0.method == "PUT" })
        }
    }

    @Test func concurrentAddsAcceptedByTwoReplicasCoalesceIntoFewWrites() async throws {
        try await withReplicas(2) { gateways in
            gateways[0].sandbox.resetRequestLog()
            let adds = (0..<24).map { n in (gateway: gateways[n % 2], body: #"{"partnerVerticalId":1540,"partnerSubVerticalId":\#(1650 + n)}"#) }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for add in adds {
                    group.addTask { try await add.gateway.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-verticals", json: add.body).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let expected = Set((0..<24).map { "1540/\(1650 + $0)" })
            #expect(expected.isSubset(of: Self.verticals(gateways[0], Self.m1)))
            // One job per merchant across replicas: adds arriving while a write runs share the next one.
            let puts = gateways[0].upstream("PUT", pathSuffix: "/marketplacecontrolslists").count
            #expect(puts >= 1 && puts <= 12, "\(puts) PUTs for 24 adds")
        }
    }

    @Test func aKeyRevokedThroughOneReplicaIsRefusedByTheOther() async throws {
        try await withReplicas(2) { gateways in
            let (a, b) = (gateways[0], gateways[1])
            let (key, secret) = try await ApiKeyService(store: a.store, clock: a.services.clock).create(name: "reader", scopes: [.read], merchants: nil)
            #expect(await eventually { (try? await b.call(.get, "/v1/merchants/\(Self.m1)/controls", key: secret).status) == 200 })
            #expect(try await ApiKeyService(store: a.store, clock: a.services.clock).revoke(id: key.id))
            // Within a second (NOTIFY; 2 s of slack for a loaded machine), not merely eventually.
            #expect(await eventually(timeout: .seconds(2)) { (try? await b.call(.get, "/v1/merchants/\(Self.m1)/controls", key: secret).status) == 401 })
        }
    }

    /// The engine shares its minimum concurrency with the replicas it hears working: a write
    /// through one replica is heard by the other, whose engine (and `/metrics`) counts two.
    @Test func aReplicaCountsTheOtherWorkingOnTheStore() async throws {
        try await withReplicas(2) { gateways in
            let (a, b) = (gateways[0], gateways[1])
            #expect(b.app.services.engine.gauges.replicasWorking == 1)
            let added = try await a.call(.post, "/v1/merchants/\(Self.m1)/controls/blocked-domains", json: #"{"domain":"heard.example.com"}"#)
            #expect(added.status < 300, "\(added.text)")
            #expect(await eventually { b.app.services.engine.gauges.replicasWorking == 2 })
            let metrics = try await b.call(.get, "/metrics", anonymous: true).text
            #expect(metrics.contains("\nrokt_gateway_replicas_working 2\n"))
        }
    }

    /// With its notice lost, a revocation still reaches the other replica by its one-second poll
    /// of the key set's version (3 s of slack for a loaded machine).
    @Test func aRevocationWhoseNoticeIsLostIsSeenByTheOtherReplicaWithinSeconds() async throws {
        try await withReplicas(2) { gateways in
            let (a, b) = (gateways[0], gateways[1])
            let (key, secret) = try await ApiKeyService(store: a.store, clock: a.services.clock).create(name: "reader", scopes: [.read], merchants: nil)
            #expect(await eventually { (try? await b.call(.get, "/v1/merchants/\(Self.m1)/controls", key: secret).status) == 200 })
            let store = try #require(a.store as? PostgresGatewayStore)
            // The revocation's rows, written without the store (so no NOTIFY is sent).
            _ = try await store.read { db in
                try await db.pipeline([
                    PostgresStatement("UPDATE api_keys SET revoked_at = $2 WHERE id = $1", [.text(key.id), .int64(1)]),
                    PostgresStatement("UPDATE meta SET value = value + 1 WHERE name = 'keys_version'"),
                ])
            }
            let started = ContinuousClock.now
            #expect(await eventually(timeout: .seconds(3)) { (try? await b.call(.get, "/v1/merchants/\(Self.m1)/controls", key: secret).status) == 401 })
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test func aWebhookIsDeliveredOnceWhicheverReplicaEndsTheOperation() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        do {
            try await withReplicas(2, configure: WebhookEndToEndTests.fastWebhooks) { gateways in
                let created = try await WebhookEndToEndTests.createEndpoint(gateways[0], url: receiver.url, events: ["operation.succeeded"])
                #expect(created.status == 201)
                for (n, gateway) in gateways.enumerated() {
                    let body = #"{"partnerVerticalId":1541,"partnerSubVerticalId":\#(1680 + n)}"#
                    #expect(try await gateway.call(.post, "/v1/merchants/\(Self.m2)/controls/blocked-verticals", json: body).status == 200)
                }
                let received = try await receiver.wait { $0.count >= 2 }
                try await Task.sleep(for: .milliseconds(300))  // a duplicate would arrive meanwhile
                let all = try await receiver.wait { $0.count >= 2 }
                #expect(all.count == 2 && Set(all.map(\.id)).count == 2)
                let sequences = received.compactMap { $0.json["data"]?["sequence"]?.intValue }.sorted()
                #expect(sequences == [1, 2])
            }
        } catch {
            await receiver.shutdown()
            group.shutdown()
            throw error
        }
        await receiver.shutdown()
        group.shutdown()
    }
}
