import JSON
import Rokt

/// The lifecycle of an operation: `queued → running → succeeded | failed`. Terminal states never change.
public enum OperationState: String, Codable, Sendable, Equatable {
    case queued, running, succeeded, failed
    public var isTerminal: Bool { self == .succeeded || self == .failed }
}

/// A caller's write as the gateway tracks it (the `Operation` schema of openapi/gateway.yaml).
public struct Operation: Codable, Sendable, Equatable {
    public var id: String
    public var type: String
    public var merchantId: String
    public var state: OperationState
    public var changed: Bool?
    public var attempts: Int
    public var createdAt: String
    public var updatedAt: String
    public var request: JSONValue
    public var result: JSONValue?
    public var error: Problem?
    public var upstream: [UpstreamCall]
    /// The W3C trace of the request that created it; its upstream calls and webhooks carry it too.
    public var traceId: String? = nil
}

/// What an operation asks of Rokt, in the form the engine executes; stored with the operation.
public enum OperationIntent: Codable, Sendable, Equatable {
    case controls(ControlsChange)
    case status(PlacementStatus)
    /// One Rokt write sent once (retried with its key): register, theme, pages, payout, privacy.
    case single(SingleWrite)

    /// The serialisation domain: one read-modify-write per (merchant, resource) at a time.
    public var resource: String { job.stored }

    var job: JobResource {
        switch self {
        case .controls: .controls
        case .status: .status
        case .single(let write): .singleWrite(lane: write.lane)
        }
    }

    public var operationType: String {
        switch self {
        case .controls(let change): change.operationType
        case .status(.paused): "status.pause"
        case .status(.active): "status.resume"
        case .single(let write): write.kind.operationType
        }
    }
}

extension Operation {
    /// The document as JSON, built by hand: operations are the gateway's most frequent answer.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "type": .string(type), "merchantId": .string(merchantId), "state": .string(state.rawValue),
            "changed": changed.map(JSONValue.bool) ?? .null, "attempts": .number(Double(attempts)),
            "createdAt": .string(createdAt), "updatedAt": .string(updatedAt), "request": request,
            "result": result ?? .null, "upstream": .array(upstream.map(\.jsonValue)),
            "traceId": traceId.map(JSONValue.string) ?? .null,
        ]
        members["error"] = error.flatMap { try? JSON.decode(JSONValue.self, from: JSON.encode($0)) } ?? .null
        return .object(members)
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        jsonValue.write(to: &out)
        return out
    }
}

extension UpstreamCall {
    var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "method": .string(method), "path": .string(path), "durationMs": .number(Double(durationMs)), "at": .string(Timestamp.format(at)),
        ]
        if let idempotencyKey { members["idempotencyKey"] = .string(idempotencyKey) }
        members["status"] = status.map { .number(Double($0)) } ?? .null
        if let requestId { members["requestId"] = .string(requestId) }
        if let operationId { members["operationId"] = .string(operationId) }
        if let error { members["error"] = .string(error) }
        if let traceId { members["traceId"] = .string(traceId) }
        return .object(members)
    }
}
