import Foundation
import HTTP
import Rokt
import RoktSandbox
@testable import Store
import Synchronization
import Testing
@testable import Gateway

/// How long an `Idempotency-Key` holds, and what it answers: bound to an operation, for good
/// (24 h); left in flight by a dead process without an operation, for its lease only; and the
/// request it names includes the headers that change its meaning.
@Suite struct IdempotencyKeyLifetimeTests {
    static let pausePath = "/v1/merchants/\(SandboxDemo.merchant1)/pause"
    static let domainsPath = "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-domains"

    /// Runs the real pause submission under `key`, bound like the route binds it, then fails
    /// the way `failure` says after the operation was committed (the store failing the wait, a 5xx).
    static func pauseThenFail(_ gateway: GatewayHarness, key: String, failure: @escaping @Sendable () throws -> HTTPResponse) async throws -> String {
        let services = gateway.services
        let admin = try #require(services.keyRing.authenticate(gateway.adminKey))
        let request = HTTPRequest(method: .post, target: pausePath, headers: ["Idempotency-Key": key])
        let submitted = Mutex<String?>(nil)
        let response = try? await InboundIdempotency(services: services).run(request, caller: Caller(.apiKey(admin))) { binding in
            let operation = try await services.engine.submit(
                .status(.paused), merchantId: SandboxDemo.merchant1,
                request: .object(["status": .string("paused")]), apiKeyId: admin.id,
                inboundKey: binding)
            submitted.withLock { $0 = operation.id }
            return try failure()
        }
        if let response { #expect(response.status.code >= 500) }
        return try #require(submitted.withLock { $0 })
    }

    static func operationCount(_ gateway: GatewayHarness) async throws -> Int {
        try await gateway.database.read { db in
            try db.queryOne("SELECT COUNT(*) FROM operations WHERE merchant_id = ?", [SandboxDemo.merchant1])?.get(0, as: Int.self) ?? 0
        }
    }

    @Test(.readsSQLiteTables, arguments: ["store error", "5xx answer"])
    func aKeyBoundToAnOperationAnswersWithItAfterAFailedFirstAnswer(_ failure: String) async throws {
        let clock = ManualWallClock()
        try await withGateway(clock: clock) { gateway in
            let operationId = try await Self.pauseThenFail(gateway, key: "bound-\(failure)") {
                if failure == "store error" { throw StoreError.overloaded(limit: 1, queue: "read") }
                return Problem(status: 503, code: .notReady, detail: "The store is closing.").response()
            }
            // The caller retries, through the real route, even after the in-flight lease would have run out.
            clock.advance(by: .seconds(300))
            let retry = try await gateway.call(.post, Self.pausePath, headers: ["Idempotency-Key": "bound-\(failure)"])
            #expect(retry.headers["Idempotent-Replayed"] == "true")
            #expect(retry["id"]?.stringValue == operationId)
            #expect(try await Self.operationCount(gateway) == 1)
        }
    }

    /// A process died while answering a request that created no operation: its key answers 409
    /// until the lease runs out, then the request runs as new.
    @Test(.readsSQLiteTables) func anAbandonedInFlightKeyIsFreeAfterItsLease() async throws {
        let clock = ManualWallClock()
        try await withGateway(clock: clock) { gateway in
            let body = #"{"domain":"abandoned.example.com"}"#
            let left = HTTPRequest(method: .post, target: Self.domainsPath, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
            let admin = try #require(gateway.services.keyRing.authenticate(gateway.adminKey))
            let (hash, now) = (RequestFingerprint(left).hash, clock.nowMillis())
            // The claim a crashed process leaves: in flight, no operation, no request of ours holding it.
            _ = try await gateway.database.write { db in
                try InboundRecords.claim(
                    apiKeyId: admin.id, key: "crashed", requestHash: hash, now: now, retention: 86_400_000,
                    lease: InboundIdempotency.inFlightLease.milliseconds, heldElsewhere: { false }, in: db)
            }
            let early = try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "crashed"])
            #expect(early.status == 409)
            #expect(early["code"] == .string("idempotency_key_in_flight"))
            clock.advance(by: InboundIdempotency.inFlightLease - .seconds(1))
            #expect(try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "crashed"]).status == 409)
            clock.advance(by: .seconds(1))
            let later = try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "crashed"])
            #expect(later.status == 200)
            #expect(later.headers["Idempotent-Replayed"] == nil)
            #expect(try await Self.operationCount(gateway) == 1)
        }
    }

    /// A request of this process still answering keeps its key past the lease.
    @Test(.readsSQLiteTables) func aKeyHeldByALiveRequestOutlastsTheLease() async throws {
        let clock = ManualWallClock()
        try await withGateway(clock: clock) { gateway in
            let now = clock.nowMillis()
            let lease = InboundIdempotency.inFlightLease.milliseconds
            let (first, second) = try await gateway.database.write { db in
                let first = try InboundRecords.claim(
                    apiKeyId: "key_x", key: "live", requestHash: "h", now: now, retention: 86_400_000,
                    lease: lease, heldElsewhere: { true }, in: db)
                let second = try InboundRecords.claim(
                    apiKeyId: "key_x", key: "live", requestHash: "h", now: now + lease * 10, retention: 86_400_000,
                    lease: lease, heldElsewhere: { true }, in: db)
                return (first, second)
            }
            guard case .claimed = first, case .existing(let record) = second else {
                Issue.record("expected a claim, then the live claim back; got \(first), \(second)")
                return
            }
            #expect(record.state == .inFlight)
        }
    }

    @Test func aDifferentPreconditionUnderTheSameKeyIs422() async throws {
        try await withGateway { gateway in
            let body = #"{"domain":"precondition.example.com"}"#
            let first = try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "pre-1", "If-Match": "\"aaa\""])
            #expect(first.status == 200)
            let otherTag = try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "pre-1", "If-Match": "\"bbb\""])
            #expect(otherTag.status == 422)
            #expect(otherTag["code"] == .string("idempotency_key_reused"))
            let noTag = try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "pre-1"])
            #expect(noTag.status == 422)
            let noneMatch = try await gateway.call(
                .post, Self.domainsPath, json: body,
                headers: ["Idempotency-Key": "pre-1", "If-Match": "\"aaa\"", "If-None-Match": "*"])
            #expect(noneMatch.status == 422)
            // How it is answered is not what it means: another Prefer replays.
            let async = try await gateway.call(
                .post, Self.domainsPath, json: body,
                headers: ["Idempotency-Key": "pre-1", "If-Match": "\"aaa\"", "Prefer": "respond-async"])
            #expect(async.status == 200)
            #expect(async.headers["Idempotent-Replayed"] == "true")
        }
    }

    @Test func aDifferentContentTypeUnderTheSameKeyIs422() async throws {
        try await withGateway { gateway in
            let body = #"{"domain":"media.example.com"}"#
            #expect(try await gateway.call(.post, Self.domainsPath, json: body, headers: ["Idempotency-Key": "ct-1"]).status == 200)
            // The harness sends JSON as application/json; this one names another media type.
            let other = try await gateway.client.execute(
                HTTPClientRequest(
                    method: .post, url: gateway.baseURL + Self.domainsPath,
                    headers: ["Authorization": "Bearer \(gateway.adminKey)", "Idempotency-Key": "ct-1", "Content-Type": "application/merge-patch+json"],
                    body: Array(body.utf8)), timeout: .seconds(60))
            #expect(other.status.code == 422)
        }
    }

    @Test func fingerprintsIgnoreSpacingAndMediaTypeCaseButNotEntityTagCase() {
        func fingerprint(_ headers: HTTPHeaders) -> String {
            RequestFingerprint(HTTPRequest(method: .post, target: "/x", headers: headers, body: Array("{}".utf8))).hash
        }
        #expect(fingerprint(["Content-Type": "application/json; charset=utf-8"]) == fingerprint(["content-type": "Application/JSON;charset=UTF-8"]))
        #expect(fingerprint(["If-Match": "\"abc\""]) != fingerprint(["If-Match": "\"ABC\""]))
        #expect(fingerprint([:]) != fingerprint(["If-None-Match": "*"]))
        #expect(fingerprint(["Prefer": "respond-async"]) == fingerprint([:]))
    }

    /// Records written before the headers counted still replay after an upgrade.
    @Test func aRecordHashedTheEarlierWayStillMatches() {
        let request = HTTPRequest(method: .post, target: "/x", headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        let earlier = Digest.sha256Hex("POST /x\n{}")
        #expect(RequestFingerprint(request).matches(earlier))
        #expect(!RequestFingerprint(request).matches(Digest.sha256Hex("POST /x\n{ }")))
    }
}
