import HTTP
@testable import Gateway
@testable import Rokt

/// Values the round tests feed the pure rounds: operations, Rokt's answers, a fixed clock and
/// numbered keys. Actions are compared through short descriptions, so a decision table reads as one.
enum RoundFixtures {
    static let merchant = "m1"
    static let now: Int64 = 1_000_000_000

    static func job(_ resource: String, attempts: Int = 2) -> ClaimedJob {
        ClaimedJob(merchantId: merchant, resource: resource, attempts: attempts)
    }

    static func operation(_ id: String, _ intent: OperationIntent, state: OperationState = .queued) -> StoredOperation {
        StoredOperation(
            id: id, type: intent.operationType, merchantId: merchant, resource: intent.resource, state: state, changed: nil,
            attempts: 0, createdAt: now, updatedAt: now, request: .object([:]), intent: intent, result: nil, error: nil,
            apiKeyId: nil)
    }

    static func rokt(_ status: Int, retryAfter: Duration? = nil, requestId: String = "req-x") -> RoktError {
        RoktError(
            kind: .upstream, status: status, code: nil, message: "Rokt says \(status)", requestId: requestId, retryAfter: retryAfter,
            mayHaveReachedRokt: true)
    }

    static let timeout = RoktError(
        kind: .transport, status: nil, code: nil, message: "timed out", requestId: nil, retryAfter: nil,
        mayHaveReachedRokt: true)

    static func response(_ status: Int, _ body: String = "", headers: HTTPHeaders = HTTPHeaders()) -> RoktResponse {
        RoktResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    static func pendingWrite(
        _ ids: [String], resource: String, plan: [UInt8], key: String = "old-key", createdAt: Int64 = now,
        upstreamOperationId: String? = nil
    ) -> PendingWrite {
        PendingWrite(
            merchantId: merchant, resource: resource, operationIds: ids, plan: plan, method: "PUT", path: "/p", body: nil,
            idempotencyKey: key, createdAt: createdAt, upstreamOperationId: upstreamOperationId)
    }

    /// key-1, key-2, … in the order the round asks for them.
    final class Keys: @unchecked Sendable {  // used from one test's thread only
        private var count = 0
        func next() -> String {
            count += 1
            return "key-\(count)"
        }
    }

    static func endings(_ endings: [OperationEnding]) -> String {
        endings.map { ending in
            if let error = ending.error { return "\(ending.id):\(error.code)" }
            return "\(ending.id):\(ending.changed == true ? "changed" : "unchanged")"
        }.joined(separator: ",")
    }

    static func end(_ end: RunEnd) -> String {
        switch end {
        case .idle: "end(idle)"
        case .retry(.exactly(let duration)): "end(retry \(duration))"
        case .retry(.backoff(let attempt, let retryAfter)): "end(backoff \(attempt)\(retryAfter.map { " ≥ \($0)" } ?? ""))"
        }
    }

    static func write(_ write: PendingWrite) -> String {
        "\(write.method) \(write.idempotencyKey) \(write.operationIds.joined(separator: ","))"
    }
}

extension ControlsRound.Action {
    var summary: String {
        switch self {
        case .loadPendingWrite: "loadPendingWrite"
        case .loadQueued(let limit): "loadQueued(\(limit))"
        case .wait(let duration): "wait(\(duration))"
        case .loadOperations(let ids): "loadOperations(\(ids.joined(separator: ",")))"
        case .renewLease: "renewLease"
        case .countAttempt(let ids): "countAttempt(\(ids.joined(separator: ",")))"
        case .readControls(let ids): "readControls(\(ids.joined(separator: ",")))"
        case .begin(let write): "begin(\(RoundFixtures.write(write)))"
        case .send(let write): "send(\(RoundFixtures.write(write)))"
        case .abandon(let write): "abandon(\(write.idempotencyKey))"
        case .dropPendingWrite: "dropPendingWrite"
        case .finish(let endings, let delete): "finish(\(RoundFixtures.endings(endings))\(delete ? "; delete" : ""))"
        case .roundStarted: "roundStarted"
        case .roundEnded: "roundEnded"
        case .end(let end): RoundFixtures.end(end)
        }
    }
}

extension StatusRound.Action {
    var summary: String {
        switch self {
        case .loadPendingWrite: "loadPendingWrite"
        case .loadOperation(let id): "loadOperation(\(id))"
        case .loadQueued(let limit): "loadQueued(\(limit))"
        case .renewLease: "renewLease"
        case .readStatus(let ids): "readStatus(\(ids.joined(separator: ",")))"
        case .begin(let write): "begin(\(RoundFixtures.write(write)))"
        case .send(let write): "send(\(RoundFixtures.write(write)))"
        case .abandon(let write): "abandon(\(write.idempotencyKey))"
        case .dropPendingWrite: "dropPendingWrite"
        case .finish(let endings, let delete): "finish(\(RoundFixtures.endings(endings))\(delete ? "; delete" : ""))"
        case .end(let end): RoundFixtures.end(end)
        }
    }
}

extension SingleWriteRound.Action {
    var summary: String {
        switch self {
        case .loadPendingWrite: "loadPendingWrite"
        case .loadOperation(let id): "loadOperation(\(id))"
        case .loadQueued(let limit): "loadQueued(\(limit))"
        case .loadCalls(let id): "loadCalls(\(id))"
        case .renewLease: "renewLease"
        case .countAttempt(let ids): "countAttempt(\(ids.joined(separator: ",")))"
        case .begin(let write): "begin(\(RoundFixtures.write(write)))"
        case .send(let write): "send(\(RoundFixtures.write(write)))"
        case .readUpstreamOperation(let id, let ids): "readUpstreamOperation(\(id) for \(ids.joined(separator: ",")))"
        case .recordRegistration(let operation, let accountId, let external, _, let isNew):
            "recordRegistration(\(operation.id) \(accountId) \(external)\(isNew ? " new" : ""))"
        case .abandon(let write): "abandon(\(write.idempotencyKey))"
        case .dropPendingWrite: "dropPendingWrite"
        case .finish(let endings, let delete): "finish(\(RoundFixtures.endings(endings))\(delete ? "; delete" : ""))"
        case .end(let end): RoundFixtures.end(end)
        }
    }
}
