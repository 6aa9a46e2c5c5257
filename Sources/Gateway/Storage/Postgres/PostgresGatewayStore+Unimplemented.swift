import Postgres

// TEMPORARY: the webhook, retention and gauge parts of the PostgreSQL store are written on
// another branch, which deletes this file and defines the same names for real.

/// A part of the PostgreSQL store this build does not have yet.
struct PostgresStoreUnimplemented: Error, CustomStringConvertible {
    let function: String
    var description: String { "\(function) is not implemented on PostgreSQL yet" }
}

/// The webhook records the operation store's transactions call (an ending's events, a registration's event).
enum PostgresWebhookRecords {
    /// Whether any endpoint is enabled (most gateways have none: their endings record nothing).
    static func anyEnabledEndpoint(in db: PostgresConnection) async throws -> Bool { false }

    /// Records an event with its deliveries in the caller's transaction (appending `.deliveriesDue`
    /// to `notices` when it stored some); answers its id, nil when no endpoint wanted it.
    @discardableResult
    static func record(_ event: NewWebhookEvent, at now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws -> String? {
        throw PostgresStoreUnimplemented(function: #function)
    }
}

extension PostgresGatewayStore {
    func gauges() async throws -> StoreGauges { throw PostgresStoreUnimplemented(function: #function) }

    func endpoints() async throws -> [WebhookEndpoint] { throw PostgresStoreUnimplemented(function: #function) }
    func endpoint(_ id: String) async throws -> WebhookEndpoint? { throw PostgresStoreUnimplemented(function: #function) }
    func createEndpoint(_ endpoint: WebhookEndpoint, maxEndpoints: Int) async throws -> Bool { throw PostgresStoreUnimplemented(function: #function) }
    func deleteEndpoint(_ id: String) async throws -> Bool { throw PostgresStoreUnimplemented(function: #function) }
    func rotateSecret(_ id: String, newKey: [UInt8], previousExpiresAt: Int64, now: Int64) async throws -> WebhookEndpoint? {
        throw PostgresStoreUnimplemented(function: #function)
    }
    func recordEvents(_ events: [NewWebhookEvent], now: Int64) async throws -> [String?] { throw PostgresStoreUnimplemented(function: #function) }
    func deliveries(endpointId: String, limit: Int, after: String?) async throws -> [WebhookDeliveryLog]? {
        throw PostgresStoreUnimplemented(function: #function)
    }
    func redeliver(_ deliveryId: String, now: Int64) async throws -> RedeliverOutcome { throw PostgresStoreUnimplemented(function: #function) }
    func releaseForeignDeliveryLeases(owner: String) async throws { throw PostgresStoreUnimplemented(function: #function) }
    func releaseAllDeliveries(owner: String) async throws { throw PostgresStoreUnimplemented(function: #function) }
    func nextDeliveryDue(firstDelay: Int64) async throws -> Int64? { throw PostgresStoreUnimplemented(function: #function) }
    func claimDeliveries(
        now: Int64, firstDelay: Int64, leaseUntil: Int64, owner: String, limit: Int, perEndpointLimit: Int, inFlight: [String: Int]
    ) async throws -> [ClaimedDelivery] { throw PostgresStoreUnimplemented(function: #function) }
    func attemptInput(_ delivery: ClaimedDelivery) async throws -> (endpoint: WebhookEndpoint?, body: [UInt8]?) {
        throw PostgresStoreUnimplemented(function: #function)
    }
    func releaseDelivery(_ id: String) async throws { throw PostgresStoreUnimplemented(function: #function) }
    func recordAttempt(
        _ attempt: WebhookAttempt, of delivery: ClaimedDelivery, now: Int64, decide: @escaping @Sendable (_ failingSince: Int64?) -> DeliveryDecision
    ) async throws -> DeliveryDecision { throw PostgresStoreUnimplemented(function: #function) }

    func purgeInboundRequests(before cutoff: Int64, limit: Int) async throws -> Int { throw PostgresStoreUnimplemented(function: #function) }
    func purgeOperations(endedBefore cutoff: Int64, limit: Int) async throws -> Int { throw PostgresStoreUnimplemented(function: #function) }
    func purgeWebhookDeliveries(endedBefore cutoff: Int64, limit: Int) async throws -> Int { throw PostgresStoreUnimplemented(function: #function) }
    func purgeWebhookEvents(before cutoff: Int64, limit: Int) async throws -> Int { throw PostgresStoreUnimplemented(function: #function) }
    func purgeIdleJobs(limit: Int) async throws -> Int { throw PostgresStoreUnimplemented(function: #function) }
    func reclaimFreeSpace(pages: Int) async throws -> (before: Int, after: Int) { throw PostgresStoreUnimplemented(function: #function) }
    func compact() {}
}
