import HTTP
import JSON

/// Webhook endpoints, the events the outbox recorded, their deliveries and attempts.
///
/// What a backend must guarantee:
/// - An event is stored in the transaction that causes it (`OperationStore.finish`,
///   `recordRegistration`, `recordEvents`), with one delivery per enabled endpoint subscribed to
///   its type; none is stored when no endpoint wants it (then no sequence number is used).
/// - `sequence` counts one merchant's stored events 1, 2, 3… without gaps, also under
///   concurrent transactions (a row per merchant updated in the transaction).
/// - An event with a `factId` is stored once: recording it again stores nothing.
/// - A delivery is leased to one owner at a time: `claimDeliveries` skips live leases and
///   disabled endpoints, takes at most `perEndpointLimit - inFlight[endpoint]` per endpoint,
///   oldest due first; a first attempt falls due `firstDelay` after its event. A backend shared
///   by several processes also counts the other owners' live leases against `perEndpointLimit`,
///   so the bound holds in total.
/// - Commits that store due deliveries publish `StoreCommit.deliveriesDue`.
protocol WebhookStore: Sendable {
    // MARK: Endpoints
    func endpoints() async throws -> [WebhookEndpoint]
    func endpoint(_ id: String) async throws -> WebhookEndpoint?
    /// Stores a new endpoint unless `maxEndpoints` exist already (then answers false).
    func createEndpoint(_ endpoint: WebhookEndpoint, maxEndpoints: Int) async throws -> Bool
    /// Deletes the endpoint with its deliveries and their attempts; false when there is none.
    func deleteEndpoint(_ id: String) async throws -> Bool
    /// The new key signs from now on, the old one too until `previousExpiresAt`; the endpoint as it is then.
    func rotateSecret(_ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64) async throws -> WebhookEndpoint?

    // MARK: Events and the delivery log
    /// Records events outside an operation's ending, in one transaction; answers their ids
    /// (nil: no endpoint wanted it).
    func recordEvents(_ events: [NewWebhookEvent], now: Int64) async throws -> [String?]
    /// One endpoint's deliveries, newest first, after the cursor `after` (nil: no such endpoint).
    func deliveries(endpointId: String, limit: Int, after: String?) async throws -> [WebhookDeliveryLog]?
    /// A new delivery of a delivery's event to its endpoint, due at once.
    func redeliver(_ deliveryId: String, now: Int64) async throws -> RedeliverOutcome

    // MARK: Dispatching
    func releaseForeignDeliveryLeases(owner: String) async throws
    func releaseAllDeliveries(owner: String) async throws
    /// When the next delivery of an enabled endpoint falls due (a leased one not before its lease ends).
    func nextDeliveryDue(firstDelay: Int64) async throws -> Int64?
    func claimDeliveries(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int,
        inFlight: [String: Int]
    ) async throws -> [ClaimedDelivery]
    /// What an attempt sends: the endpoint and the event's body.
    func attemptInput(_ delivery: ClaimedDelivery) async throws -> (endpoint: WebhookEndpoint?, body: [UInt8]?)
    /// Ends a lease without an attempt (the endpoint or event went away).
    func releaseDelivery(_ id: String) async throws
    /// Records an attempt and applies `decide`'s decision to the delivery and the endpoint. `decide`
    /// is pure; it gets the endpoint's failure streak as it is in this transaction (concurrent
    /// attempts to one endpoint see each other's outcome). An endpoint deleted during the attempt
    /// took the delivery with it: nothing is recorded, and that is not an error.
    func recordAttempt(
        _ attempt: WebhookAttempt, of delivery: ClaimedDelivery, now: Int64,
        decide: @escaping @Sendable (_ failingSince: Int64?) -> DeliveryDecision
    ) async throws -> DeliveryDecision
}

/// A partner endpoint as stored (the secret keys never leave the gateway after creation).
struct WebhookEndpoint: Sendable, Equatable {
    var id: String
    var url: String
    /// nil: every event type.
    var events: [WebhookEventType]?
    var description: String?
    var secretKey: [UInt8]
    var previousSecretKey: [UInt8]?
    var previousSecretExpiresAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64
    var failingSince: Int64?
    var disabledAt: Int64?
    var disabledReason: String?
}

/// An event to record: the store adds `merchantId` and `sequence` to `data` and wraps it.
struct NewWebhookEvent: Sendable, Equatable {
    var type: WebhookEventType
    var merchantId: String
    var data: [String: JSONValue]
    /// The id of an event that is one fact (an operation's ending): the same every time.
    var factId: String?
    /// The W3C trace its deliveries are sent in (the causing operation's); nil: each starts one.
    var trace: TraceRecord? = nil

    /// The body receivers get, the same whichever backend stored it.
    func body(id: String, sequence: Int64, at now: Int64) -> [UInt8] {
        var data = data
        data["merchantId"] = .string(merchantId)
        data["sequence"] = .number(Double(sequence))
        let body: JSONValue = .object([
            "id": .string(id), "type": .string(type.rawValue), "timestamp": .string(Timestamp.format(now)),
            "data": .object(data),
        ])
        return Array(body.serialized.utf8)
    }
}

/// A delivery claimed for one attempt.
struct ClaimedDelivery: Sendable, Equatable {
    var id: String
    var endpointId: String
    var eventId: String
    var attempts: Int
    /// The event's trace, continued in the delivery's `traceparent`.
    var trace: TraceRecord? = nil
}

/// One attempt's outcome as logged.
struct WebhookAttempt: Sendable, Equatable {
    var at: Int64
    var status: Int?
    var durationMs: Int64
    var response: String?
    var error: String?
}

/// A delivery with its attempts, as the delivery log shows it.
struct WebhookDeliveryLog: Sendable, Equatable {
    var id: String
    var endpointId: String
    var eventId: String
    var eventType: String
    var merchantId: String
    var sequence: Int64
    var state: String
    var attemptCount: Int
    var nextAttemptAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64
    var attempts: [WebhookAttempt]
}

enum RedeliverOutcome: Sendable {
    case created(WebhookDeliveryLog)
    case noDelivery
    case endpointDisabled
}
