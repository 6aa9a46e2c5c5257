import HTTP
import JSON

/// The transactional outbox's events, built in memory: the store records each in the same
/// transaction as the state change that causes it, so it is committed exactly when that change
/// is (never lost on a commit, never invented on a rollback). The dispatcher delivers what was
/// committed.
///
/// An event caused by an operation (its data names it as `operationId` or `operation.id`) is one
/// fact, and its id derives from that fact: recording it again (a write re-run after a crash)
/// stores nothing, so receivers deduplicating on `webhook-id` see it once.
enum WebhookEvents {
    /// The events an operation's ending causes, from the operation as it ends:
    /// `operation.succeeded|failed` always; `controls.changed` / `merchant.status_changed` when it
    /// changed Rokt's state; `merchant.cascade_incomplete` when a pause/resume left variants behind.
    static func ending(_ operation: StoredOperation) -> [NewWebhookEvent] {
        guard case .object(var summary) = operation.document(upstream: []).jsonValue else { return [] }
        // The operation as GET /v1/operations/{id} shows it, less its call log; the merchant is in `data`.
        summary["upstream"] = nil
        summary["merchantId"] = nil
        let merchant = operation.merchantId
        let succeeded = operation.state == .succeeded
        var events = [event(succeeded ? .operationSucceeded : .operationFailed, merchantId: merchant, data: ["operation": .object(summary)])]
        if succeeded, operation.changed == true, let result = operation.result {
            switch operation.resource {
            case "controls":
                events.append(event(.controlsChanged, merchantId: merchant, data: ["operationId": .string(operation.id), "controls": result]))
            case "status":
                events.append(event(.merchantStatusChanged, merchantId: merchant, data: ["operationId": .string(operation.id), "status": result]))
            default: break
            }
        }
        if let error = operation.error, error.code == "cascade_incomplete" {
            events.append(
                event(
                    .merchantCascadeIncomplete, merchantId: merchant,
                    data: ["operationId": .string(operation.id), "error": summary["error"] ?? .null]))
        }
        // Delivered in the operation's trace, whenever and wherever the dispatcher sends them.
        for index in events.indices { events[index].trace = operation.trace }
        return events
    }

    /// `merchant.registered`, for an account a register created.
    static func registered(merchantId: String, merchant: JSONValue, operationId: String, trace: TraceRecord?) -> NewWebhookEvent {
        var event = event(.merchantRegistered, merchantId: merchantId, data: ["merchant": merchant, "operationId": .string(operationId)])
        event.trace = trace
        return event
    }

    /// `type` for `merchantId` with `data` (a JSON object; the store adds `merchantId` and
    /// `sequence`), with its fact id when an operation causes it.
    static func event(_ type: WebhookEventType, merchantId: String, data: [String: JSONValue]) -> NewWebhookEvent {
        NewWebhookEvent(type: type, merchantId: merchantId, data: data, factId: factEventId(type: type, data: data))
    }

    /// `evt_` + the operation id's 12 time digits + 16 hex digits of SHA-256(type, operation id):
    /// the same length and time order as a minted id, the same for the same fact every time.
    static func factEventId(type: WebhookEventType, data: [String: JSONValue]) -> String? {
        guard let operationId = data["operationId"]?.stringValue ?? data["operation"]?["id"]?.stringValue else { return nil }
        let digest = Digest.hex(Digest.sha256(Array("\(type.rawValue)\u{0}\(operationId)".utf8)))
        let time = operationId.hasPrefix("op_") ? String(operationId.dropFirst(3).prefix(12)) : ""
        let timeDigits = time.count == 12 && time.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) ? time : String(digest.suffix(12))
        return "evt_" + timeDigits + String(digest.prefix(16))
    }
}
