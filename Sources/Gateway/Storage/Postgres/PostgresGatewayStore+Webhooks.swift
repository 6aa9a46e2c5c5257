import Postgres

/// `WebhookStore` over the webhook tables, shared by every replica (see `PostgresWebhookRecords`
/// and `PostgresDeliveryRecords` for the locks that keep the guarantees across processes).
extension PostgresGatewayStore {
    func endpoints() async throws -> [WebhookEndpoint] {
        try await read { db in try await PostgresWebhookRecords.endpoints(in: db) }
    }

    func endpoint(_ id: String) async throws -> WebhookEndpoint? {
        try await read { db in try await PostgresWebhookRecords.endpoint(id, in: db) }
    }

    func createEndpoint(_ endpoint: WebhookEndpoint, maxEndpoints: Int) async throws -> Bool {
        try await transaction { db, _ in try await PostgresWebhookRecords.create(endpoint, maxEndpoints: maxEndpoints, in: db) }
    }

    func deleteEndpoint(_ id: String) async throws -> Bool {
        try await transaction { db, _ in try await PostgresWebhookRecords.delete(id, in: db) }
    }

    func rotateSecret(_ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64) async throws -> WebhookEndpoint? {
        try await transaction { db, _ in
            try await PostgresWebhookRecords.rotate(id, newKey: newKey, previousExpiresAt: previousExpiresAt, now: now, in: db)
        }
    }

    func recordEvents(_ events: [NewWebhookEvent], now: Int64) async throws -> [String?] {
        try await transaction { db, notices in try await PostgresWebhookRecords.record(events, now: now, in: db, notices: notices) }
    }

    func deliveries(endpointId: String, limit: Int, after: String?) async throws -> [WebhookDeliveryLog]? {
        try await read { db in
            guard try await PostgresWebhookRecords.endpoint(endpointId, in: db) != nil else { return nil }
            return try await PostgresDeliveryRecords.page(endpointId: endpointId, limit: limit, after: after, in: db)
        }
    }

    func redeliver(_ deliveryId: String, now: Int64) async throws -> RedeliverOutcome {
        try await transaction { db, notices in
            guard let original = try await PostgresDeliveryRecords.delivery(deliveryId, in: db) else { return .noDelivery }
            // The endpoint, then the original, held to commit (in the lock order): neither the endpoint
            // nor, through the original, the event can go before the new delivery refers to them.
            guard let endpoint = try await PostgresWebhookRecords.endpoint(original.endpointId, held: true, in: db), endpoint.disabledAt == nil else {
                return .endpointDisabled
            }
            guard try await PostgresDeliveryRecords.delivery(deliveryId, held: true, in: db) != nil else { return .noDelivery }
            let id = try await PostgresDeliveryRecords.insert(eventId: original.eventId, endpointId: original.endpointId, now: now, in: db)
            notices.append(.deliveriesDue)
            guard let log = try await PostgresDeliveryRecords.log(id, in: db) else {
                throw StoreInconsistency(description: "the delivery \(id) just stored is missing")
            }
            return .created(log)
        }
    }

    /// Ends nothing. Other replicas share the database and their leases are live: their attempts
    /// are running, and ending those leases would let this replica send the same deliveries at
    /// the same time (and break the per-endpoint bound). A dead replica's leases end by
    /// themselves when they expire, and claims then take its deliveries.
    func releaseForeignDeliveryLeases(owner: String) async throws {}

    func releaseAllDeliveries(owner: String) async throws {
        try await transaction { db, _ in try await PostgresDeliveryRecords.releaseAll(owner: owner, in: db) }
    }

    func nextDeliveryDue(firstDelay: Int64) async throws -> Int64? {
        try await read { db in try await PostgresDeliveryRecords.nextDue(firstDelay: firstDelay, in: db) }
    }

    func claimDeliveries(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int,
        inFlight: [String: Int]
    ) async throws -> [ClaimedDelivery] {
        try await transaction { db, _ in
            try await PostgresDeliveryRecords.claim(
                now: now, firstDelay: firstDelay, leaseUntil: leaseUntil, owner: owner, limit: limit,
                perEndpointLimit: perEndpointLimit, inFlight: inFlight, in: db)
        }
    }

    func attemptInput(_ delivery: ClaimedDelivery) async throws -> (endpoint: WebhookEndpoint?, body: [UInt8]?) {
        try await read { db in
            (try await PostgresWebhookRecords.endpoint(delivery.endpointId, in: db), try await PostgresDeliveryRecords.eventBody(delivery.eventId, in: db))
        }
    }

    func releaseDelivery(_ id: String) async throws {
        try await transaction { db, _ in try await PostgresDeliveryRecords.release(id, in: db) }
    }

    func recordAttempt(
        _ attempt: WebhookAttempt, of delivery: ClaimedDelivery, now: Int64,
        decide: @escaping @Sendable (_ failingSince: Int64?) -> DeliveryDecision
    ) async throws -> DeliveryDecision {
        try await transaction { db, _ in
            // The endpoint's row stays locked to commit: concurrent attempts to it, on any replica, decide one after the other.
            guard let endpoint = try await PostgresDeliveryRecords.lockEndpoint(delivery.endpointId, in: db) else {
                // The endpoint was deleted during the attempt and took its deliveries along: nothing to record.
                return decide(nil)
            }
            let decision = decide(endpoint.failingSince)
            try await PostgresDeliveryRecords.recordAttempt(delivery, attempt, decision: decision, now: now, in: db)
            return decision
        }
    }
}
