import JSON
import Rokt

extension SingleWrite.Kind {
    /// Whether the gateway can read back what this write did. Register finds the account by its
    /// externalAccountId and a theme PATCH is a SET, so both may start over under a new key; a
    /// page, a payout setup, a data deletion or a privacy request would happen twice.
    var hasReadBack: Bool {
        switch self {
        case .register, .theme: true
        case .page, .payoutSetup, .dataDeletion, .privacy: false
        }
    }
}

/// The ending of a write without read-back whose attempts never got a definite answer (timeouts,
/// connections lost after sending, 5xx) when its Idempotency-Key is about to expire: sending it
/// again under a new key could apply it twice, so it ends here and the caller asks Rokt.
///
/// 504, like the other "Rokt did not answer in time" endings: no answer came at all, where 502
/// would say an invalid one did. The problem carries every key and Rokt request id sent, which
/// is what Rokt support needs to trace the write.
enum OutcomeUnknown {
    static func problem(keys: [String], requestIds: [String]) -> Problem {
        Problem(
            status: 504, code: .outcomeUnknown,
            detail: "Rokt never answered this write for certain (timeouts or lost connections) and its Idempotency-Key is about to "
                + "expire, so the gateway will not send it again: it may or may not have been applied. Ask Rokt support, quoting the "
                + "idempotency keys and request ids in `context`, before sending it again.",
            context: .object(["idempotencyKeys": .array(keys.map(JSONValue.string)), "requestIds": .array(requestIds.map(JSONValue.string))]))
    }

    /// The problem for `pending`, from the operation's call log (first use first).
    static func problem(for pending: PendingWrite, calls: [UpstreamCall]) -> Problem {
        var keys: [String] = []
        var requestIds: [String] = []
        for call in calls {
            if let key = call.idempotencyKey, !keys.contains(key) { keys.append(key) }
            if let id = call.requestId, !requestIds.contains(id) { requestIds.append(id) }
        }
        if !keys.contains(pending.idempotencyKey) { keys.append(pending.idempotencyKey) }
        return problem(keys: keys, requestIds: requestIds)
    }
}
