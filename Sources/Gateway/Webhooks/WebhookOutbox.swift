import JSON
import Rokt
import Store
import Synchronization

/// The transactional outbox: an event is written in the same SQLite transaction as the state
/// change that causes it, so it is committed exactly when that change is (never lost on a
/// commit, never invented on a rollback). The dispatcher delivers what was committed.
public enum WebhookOutbox {
    /// Records `type` for `merchantId` with `data` (a JSON object; `merchantId` and `sequence` are
    /// added to it) and one delivery per enabled endpoint subscribed to `type`. Call it inside the
    /// `Database.write` that makes the change. Answers the event id, or nil when no endpoint
    /// wants the event (then nothing is stored and no sequence number is used).
    ///
    /// `sequence` counts one merchant's stored events 1, 2, 3…: receivers order by it (an
    /// endpoint's event filter leaves gaps).
    ///
    /// An event caused by an operation (`data` names it as `operationId` or `operation.id`) is one
    /// fact, and its id derives from that fact: recording it again (a write re-run after a crash)
    /// stores nothing and answers the id already sent, so receivers deduplicating on `webhook-id`
    /// see it once.
    @discardableResult
    public static func enqueue(type: WebhookEventType, merchantId: String, data: [String: JSONValue], at now: Int64,
                               in db: SQLiteConnection) throws -> String? {
        let factId = factEventId(type: type, data: data)
        if let factId, try db.queryOne("SELECT 1 FROM webhook_events WHERE id = ?", [factId]) != nil { return factId }
        let endpoints = try db.query("SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id").compactMap { row -> String? in
            let id: String = try row.get("id")
            guard let events = try row.get("events", as: String?.self) else { return id }
            return WebhookRecords.decodeEvents(events).contains(type) ? id : nil
        }
        guard !endpoints.isEmpty else { return nil }
        let sequence = try db.queryOne("""
            INSERT INTO webhook_sequences (merchant_id, last) VALUES (?, 1)
            ON CONFLICT (merchant_id) DO UPDATE SET last = last + 1 RETURNING last
            """, [merchantId])!.get(0, as: Int64.self)
        let id = factId ?? Identifiers.prefixed("evt_", now: now)
        var data = data
        data["merchantId"] = .string(merchantId)
        data["sequence"] = .number(Double(sequence))
        let body: JSONValue = .object(["id": .string(id), "type": .string(type.rawValue), "timestamp": .string(Timestamp.format(now)),
                                       "data": .object(data)])
        try db.run("INSERT INTO webhook_events (id, type, merchant_id, sequence, created_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                   [id, type.rawValue, merchantId, sequence, now, Array(body.serialized.utf8)])
        for endpoint in endpoints { try WebhookRecords.insertDelivery(eventId: id, endpointId: endpoint, now: now, in: db) }
        // Wake the dispatcher once this transaction has committed (not before: it would read nothing).
        db.afterCommit { WebhookOutbox.committed.signal() }
        return id
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

    /// Signalled after every commit that stored deliveries; dispatchers listen to it.
    static let committed = WakeBroadcast()

    /// A new delivery of a stored event to one endpoint (the redeliver route), due at once.
    static func redeliver(eventId: String, endpointId: String, at now: Int64, in db: SQLiteConnection) throws -> String {
        let id = try WebhookRecords.insertDelivery(eventId: eventId, endpointId: endpointId, now: now, in: db)
        db.afterCommit { WebhookOutbox.committed.signal() }
        return id
    }

    /// The events an operation's ending causes, recorded in the transaction that ends it:
    /// `operation.succeeded|failed` always; `controls.changed` / `merchant.status_changed` when it
    /// changed Rokt's state; `merchant.cascade_incomplete` when a pause/resume left variants behind.
    static func recordEnding(of operationId: String, at now: Int64, in db: SQLiteConnection) throws {
        // Most gateways have few endpoints or none: skip the load when nobody listens.
        guard try db.queryOne("SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL LIMIT 1") != nil,
              let operation = try OperationRecords.load(operationId, in: db),
              case .object(var summary) = operation.document(upstream: []).jsonValue else { return }
        // The operation as GET /v1/operations/{id} shows it, less its call log; the merchant is in `data`.
        summary["upstream"] = nil
        summary["merchantId"] = nil
        let merchant = operation.merchantId
        let succeeded = operation.state == .succeeded
        try enqueue(type: succeeded ? .operationSucceeded : .operationFailed, merchantId: merchant, data: ["operation": .object(summary)], at: now, in: db)
        if succeeded, operation.changed == true, let result = operation.result {
            switch operation.resource {
            case "controls":
                try enqueue(type: .controlsChanged, merchantId: merchant, data: ["operationId": .string(operation.id), "controls": result], at: now, in: db)
            case "status":
                try enqueue(type: .merchantStatusChanged, merchantId: merchant, data: ["operationId": .string(operation.id), "status": result], at: now, in: db)
            default: break
            }
        }
        if let error = operation.error, error.code == "cascade_incomplete" {
            try enqueue(type: .merchantCascadeIncomplete, merchantId: merchant,
                        data: ["operationId": .string(operation.id), "error": summary["error"] ?? .null], at: now, in: db)
        }
    }
}

/// Wakes every registered listener (several gateways can share a process: tests).
final class WakeBroadcast: Sendable {
    private let listeners = Mutex<[ObjectIdentifier: WakeSignal]>([:])
    func add(_ signal: WakeSignal) { listeners.withLock { $0[ObjectIdentifier(signal)] = signal } }
    func remove(_ signal: WakeSignal) { _ = listeners.withLock { $0.removeValue(forKey: ObjectIdentifier(signal)) } }
    func signal() { for listener in listeners.withLock({ Array($0.values) }) { listener.signal() } }
}
