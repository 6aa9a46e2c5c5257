/// Caller-side idempotency: one record per (API key, Idempotency-Key), kept 24 h.
///
/// What a backend must guarantee: `claim` is atomic per key (of two concurrent claims exactly
/// one answers `.claimed`), and answers `.claimed` over an existing record only when that record
/// is past `retention`, or is an in-flight claim with no operation whose lease has passed and
/// that `heldElsewhere` (asked inside the claim) says no request of this process answers.
/// A key bound to an operation (`Submission.inboundKey`) keeps it: `release` never frees it.
protocol InboundRequestStore: Sendable {
    func claim(
        _ key: InboundKey, requestHash: String, now: Int64, retention: Int64, lease: Int64,
        heldElsewhere: @escaping @Sendable () -> Bool
    ) async throws -> InboundClaim
    /// Stores the answer to replay.
    func complete(_ key: InboundKey, answer: InboundAnswer) async throws
    /// Forgets a claim whose request produced nothing worth replaying (it may be retried as
    /// new); a claim bound to an operation stays.
    func release(_ key: InboundKey) async throws
}

/// One caller's Idempotency-Key.
struct InboundKey: Sendable, Hashable {
    let apiKeyId: String
    let key: String
}

enum InboundClaim: Sendable {
    /// First time (or expired, or abandoned): the caller runs the request.
    case claimed
    case existing(InboundRecord)
}

/// The answer stored for replay.
struct InboundAnswer: Sendable {
    var status: Int
    var headers: [[String]]
    var body: [UInt8]
    /// What to re-read to put a secret back into `body` at replay (the secret itself is never stored).
    var secretReference: String?
}

/// A stored inbound response, replayed for the same Idempotency-Key.
struct InboundRecord: Sendable {
    enum State: String, Sendable { case inFlight = "in_flight", done }
    var requestHash: String
    var state: State
    var status: Int?
    var headers: [[String]]
    var body: [UInt8]
    var createdAt: Int64
    var operationId: String?
    /// Until when an in-flight claim without an operation holds its key (nil: written before
    /// leases existed; `createdAt` + the lease then).
    var leaseExpiresAt: Int64?
    var secretReference: String?
}
