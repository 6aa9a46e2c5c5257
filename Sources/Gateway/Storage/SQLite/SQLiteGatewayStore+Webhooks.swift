/// `WebhookStore` over the webhook tables.
extension SQLiteGatewayStore {
    func endpoints() async throws -> [WebhookEndpoint] {
        try await database.read { db in try WebhookRecords.endpoints(in: db) }
    }

    func endpoint(_ id: String) async throws -> WebhookEndpoint? {
        try await database.read { db in try WebhookRecords.endpoint(id, in: db) }
    }

    func createEndpoint(_ endpoint: WebhookEndpoint, maxEndpoints: Int) async throws -> Bool {
        try await database.write { db in
            guard try WebhookRecords.countEndpoints(in: db) < maxEndpoints else { return false }
            try WebhookRecords.insert(endpoint, in: db)
            return true
        }
    }

    func deleteEndpoint(_ id: String) async throws -> Bool {
        try await database.write { db in try WebhookRecords.delete(id, in: db) }
    }

    func rotateSecret(_ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64) async throws -> WebhookEndpoint? {
        try await database.write { db in
            guard try WebhookRecords.rotate(id, newKey: newKey, previousExpiresAt: previousExpiresAt, now: now, in: db) else { return nil }
            return try WebhookRecords.endpoint(id, in: db)
        }
    }

    func recordEvents(_ events: [NewWebhookEvent], now: Int64) async throws -> [String?] {
        try await database.write { db in try events.map { try WebhookRecords.record($0, at: now, in: db) } }
    }

    func deliveries(endpointId: String, limit: Int, after: String?) async throws -> [WebhookDeliveryLog]? {
        try await database.read { db in
            guard try WebhookRecords.endpoint(endpointId, in: db) != nil else { return nil }
            return try WebhookRecords.deliveries(endpointId: endpointId, limit: limit, after: after, in: db)
        }
    }

    func redeliver(_ deliveryId: String, now: Int64) async throws -> RedeliverOutcome {
        try await database.write { db in
            guard let original = try WebhookRecords.delivery(deliveryId, in: db) else { return .noDelivery }
            guard let endpoint = try WebhookRecords.endpoint(original.endpointId, in: db), endpoint.disabledAt == nil else {
                return .endpointDisabled
            }
            let id = try WebhookRecords.insertDelivery(eventId: original.eventId, endpointId: original.endpointId, now: now, in: db)
            db.publishAfterCommit(.deliveriesDue)
            guard let log = try WebhookRecords.deliveryLog(id, in: db) else {
                throw StoreInconsistency(description: "the delivery \(id) just stored is missing")
            }
            return .created(log)
        }
    }

    func releaseForeignDeliveryLeases(owner: String) async throws {
        try await database.write { db in try WebhookRecords.releaseForeignLeases(owner: owner, in: db) }
    }

    func releaseAllDeliveries(owner: String) async throws {
        try await database.write { db in try WebhookRecords.releaseAll(owner: owner, in: db) }
    }

    func nextDeliveryDue(firstDelay: Int64) async throws -> Int64? {
        try await database.read { db in try WebhookRecords.nextDue(firstDelay: firstDelay, in: db) }
    }

    func claimDeliveries(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int,
        inFlight: [String: Int]
    ) async throws -> [ClaimedDelivery] {
        try await database.write { db in
            try WebhookRecords.claim(
                now: now, firstDelay: firstDelay, leaseUntil: leaseUntil, owner: owner, limit: limit,
                perEndpointLimit: perEndpointLimit, inFlight: inFlight, in: db)
        }
    }

    func attemptInput(_ delivery: ClaimedDelivery) async throws -> (endpoint: WebhookEndpoint?, body: [UInt8]?) {
        try await database.read { db in
            (try WebhookRecords.endpoint(delivery.endpointId, in: db), try WebhookRecords.eventBody(delivery.eventId, in: db))
        }
    }

    func releaseDelivery(_ id: String) async throws {
        try await database.write { db in try WebhookRecords.release(id, in: db) }
    }

    func recordAttempt(
        _ attempt: WebhookAttempt, of delivery: ClaimedDelivery, now: Int64,
        decide: @escaping @Sendable (_ failingSince: Int64?) -> DeliveryDecision
    ) async throws -> DeliveryDecision {
        try await database.write { db in
            let endpoint = try WebhookRecords.endpoint(delivery.endpointId, in: db)
            let decision = decide(endpoint?.failingSince)
            // The endpoint was deleted during the attempt and took its deliveries along: nothing to record.
            guard endpoint != nil else { return decision }
            try WebhookRecords.recordAttempt(delivery, attempt, decision: decision, now: now, in: db)
            return decision
        }
    }
}
