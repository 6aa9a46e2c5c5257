import JSON
import Postgres
import Synchronization

/// The notices of one transaction: its body appends them, `PostgresGatewayStore.transaction`
/// sends them with NOTIFY inside the transaction (so other replicas hear them only if it
/// commits) and publishes them to this process's observers once COMMIT has returned.
final class PostgresCommitNotices: Sendable {
    private let pending = Mutex<[StoreCommit]>([])

    func append(_ commit: StoreCommit) { pending.withLock { $0.append(commit) } }

    /// What was appended, in order; the list is emptied (a retried transaction starts afresh).
    func take() -> [StoreCommit] {
        pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
    }
}

/// The payloads of the commit channel: one JSON object per notice, naming the store instance
/// that sent it (its own listener skips it: that store published it already), e.g.
/// `{"from":"<store id>","jobDue":{"merchantId":"m1","resource":"status"}}`,
/// `{"from":"…","operationsEnded":["op_a","op_b"]}`, `{"from":"…","deliveriesDue":true}`,
/// `{"from":"…","apiKeysChanged":true}`. Pure.
enum PostgresCommitPayload {
    static let channel = "gateway_commits"
    /// NOTIFY refuses a payload of 8000 bytes or more (and so fails the transaction): a long list
    /// of ended operations is split, and a notice that cannot fit is not sent (it is a hint).
    static let maximumBytes = 7_999

    static func encode(_ commit: StoreCommit, from store: String) -> [String] {
        func payload(_ key: String, _ value: JSONValue) -> String { JSONValue.object(["from": .string(store), key: value]).serialized }
        let payloads: [String]
        switch commit {
        case .jobDue(let job):
            payloads = [payload("jobDue", .object(["merchantId": .string(job.merchantId), "resource": .string(job.resource)]))]
        case .deliveriesDue:
            payloads = [payload("deliveriesDue", .bool(true))]
        case .apiKeysChanged:
            payloads = [payload("apiKeysChanged", .bool(true))]
        case .operationsEnded(let ids):
            let empty = payload("operationsEnded", .array([])).utf8.count
            var chunks: [[String]] = []
            var chunk: [String] = []
            var size = empty
            for id in ids {
                let idBytes = JSONValue.string(id).serialized.utf8.count
                if !chunk.isEmpty && size + 1 + idBytes > maximumBytes {
                    chunks.append(chunk)
                    (chunk, size) = ([], empty)
                }
                size += idBytes + (chunk.isEmpty ? 0 : 1)
                chunk.append(id)
            }
            if !chunk.isEmpty { chunks.append(chunk) }
            payloads = chunks.map { payload("operationsEnded", .array($0.map { .string($0) })) }
        }
        return payloads.filter { $0.utf8.count <= maximumBytes }
    }

    /// nil for a payload this build does not understand (a newer replica's notice): ignored.
    static func decode(_ payload: String) -> (from: String, commit: StoreCommit)? {
        guard let value = try? JSONValue.parse(Array(payload.utf8)), let from = value["from"]?.stringValue else { return nil }
        if let job = value["jobDue"], let merchantId = job["merchantId"]?.stringValue, let resource = job["resource"]?.stringValue {
            return (from, .jobDue(ClaimedJobKey(merchantId: merchantId, resource: resource)))
        }
        if let ids = value["operationsEnded"]?.arrayValue {
            let strings = ids.compactMap(\.stringValue)
            return strings.count == ids.count ? (from, .operationsEnded(strings)) : nil
        }
        if value["deliveriesDue"] == .bool(true) { return (from, .deliveriesDue) }
        if value["apiKeysChanged"] == .bool(true) { return (from, .apiKeysChanged) }
        return nil
    }
}
