import Foundation
import Rokt
import Synchronization
import Testing
@testable import Gateway

/// A store backend the contract runs on: fresh, empty stores in scratch places.
struct StoreBackend: Sendable, CustomTestStringConvertible {
    let name: String
    /// Several gateway replicas share the store (PostgreSQL): leases of other owners are not
    /// ended at start (they may be live), and a job write by an owner whose lease passed to
    /// another one throws `LeaseLost`.
    let sharedByReplicas: Bool
    /// A new scratch place (a directory, a database…).
    let makeLocation: @Sendable () async throws -> String
    /// Opens (creating and migrating) the store at a location; again after `close`, the same data.
    let open: @Sendable (String) async throws -> any GatewayStore
    let removeLocation: @Sendable (String) async -> Void

    var testDescription: String { name }

    /// Runs `body` with a fresh scratch place, removed afterwards.
    func withLocation(_ body: (String) async throws -> Void) async throws {
        let location = try await makeLocation()
        do {
            try await body(location)
        } catch {
            await removeLocation(location)
            throw error
        }
        await removeLocation(location)
    }

    /// Runs `body` on a fresh store, closed and removed afterwards.
    func withStore(_ body: (any GatewayStore, _ location: String) async throws -> Void) async throws {
        try await withLocation { location in
            let store = try await open(location)
            do {
                try await body(store, location)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }
}

/// Every backend the store contract runs on.
enum StoreBackends {
    static let all: [StoreBackend] = [sqlite, postgres]

    static let sqlite = StoreBackend(
        name: "SQLite", sharedByReplicas: false,
        makeLocation: {
            let directory = NSTemporaryDirectory() + "store-contract-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return directory
        },
        open: { directory in try GatewayStorage.open(path: directory + "/gateway.sqlite3", exclusive: true) },
        removeLocation: { directory in try? FileManager.default.removeItem(atPath: directory) })

    /// Each location is a new database on the test process's cluster (its URL), dropped on removal.
    static let postgres = StoreBackend(
        name: "PostgreSQL", sharedByReplicas: true,
        makeLocation: { try await ScratchDatabases.create() },
        open: { url in try await ScratchDatabases.open(url) },
        removeLocation: { url in await ScratchDatabases.drop(url) })
}

/// Values the contract tests store. Time is given explicitly: no test waits on a clock.
enum Fixture {
    static let t0: Int64 = 1_800_000_000_000

    static func operation(_ id: String, merchant: String = "m1", intent: OperationIntent = .status(.paused), at now: Int64 = t0)
        -> StoredOperation
    {
        StoredOperation(
            id: id, type: intent.operationType, merchantId: merchant, resource: intent.resource, state: .queued, changed: nil,
            attempts: 0, createdAt: now, updatedAt: now, request: .object(["n": .string(id)]), intent: intent, result: nil,
            error: nil, apiKeyId: "key_1")
    }

    static func submission(
        _ operation: StoredOperation, maxUnfinished: Int = 100, inboundKey: InboundKey? = nil,
        registration: MerchantRegistration? = nil
    ) -> Submission {
        Submission(operation: operation, inboundKey: inboundKey, registration: registration, maxUnfinished: maxUnfinished)
    }

    static func write(for operationIds: [String], merchant: String = "m1", resource: String = "status", key: String = "idem-1") -> PendingWrite {
        PendingWrite(
            merchantId: merchant, resource: resource, operationIds: operationIds, plan: Array(#"{"plan":1}"#.utf8), method: "PUT",
            path: "/v1/x", body: Array(#"{"b":1}"#.utf8), idempotencyKey: key, createdAt: t0, upstreamOperationId: nil)
    }

    static func call(_ requestId: String) throws -> UpstreamCall {
        try JSON.decode(
            UpstreamCall.self,
            from: Array(
                """
                {"method":"PUT","path":"/v1/x","idempotencyKey":"idem-1","status":503,"durationMs":4,"at":\(t0),"requestId":"\(requestId)"}
                """.utf8))
    }

    static func endpoint(_ id: String, events: [WebhookEventType]? = nil) -> WebhookEndpoint {
        WebhookEndpoint(
            id: id, url: "https://partner.example.com/\(id)", events: events, description: nil, secretKey: [1, 2, 3],
            previousSecretKey: nil, previousSecretExpiresAt: nil, createdAt: t0, updatedAt: t0, failingSince: nil,
            disabledAt: nil, disabledReason: nil)
    }

    static func success(_ id: String, result: String = #"{"status":"paused"}"#, events: [NewWebhookEvent] = []) -> OperationFinish {
        OperationFinish(id: id, succeeded: true, changed: true, result: result, error: nil, redactedIntent: nil, events: { events })
    }

    static func failure(_ id: String, events: [NewWebhookEvent] = []) -> OperationFinish {
        var problem = Problem(status: 502, code: .upstreamError, detail: "Rokt refused it.")
        problem.operationId = id
        return OperationFinish(id: id, succeeded: false, changed: false, result: nil, error: problem, redactedIntent: nil, events: { events })
    }
}

/// Collects a store's commit notices, to await one without sleeping.
final class CommitRecorder: Sendable {
    private let seen = Mutex<[StoreCommit]>([])
    private let stream: AsyncStream<StoreCommit>
    private let continuation: AsyncStream<StoreCommit>.Continuation
    private let observation: CommitObservation

    init(_ feed: any CommitFeed) {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreCommit.self)
        self.stream = stream
        self.continuation = continuation
        observation = feed.observe { continuation.yield($0) }
    }

    /// Waits for the first notice matching `wanted` (earlier ones are kept in `seen`).
    func next(where wanted: (StoreCommit) -> Bool) async -> StoreCommit? {
        for await commit in stream {
            seen.withLock { $0.append(commit) }
            if wanted(commit) { return commit }
        }
        return nil
    }

    func cancel() {
        observation.cancel()
        continuation.finish()
    }
}
