import HTTP
import JSON
import Rokt

/// Operations, the jobs that run them (one per merchant and resource, leased to one worker at a
/// time), the write each job has in flight, the upstream call log and the result documents.
///
/// What a backend must guarantee:
/// - Every method is one transaction: all of it commits or none of it does, and it returns only
///   once its changes are durable. A method that fails leaves nothing behind (no operation, no
///   event, no call log line).
/// - `submit` decides the live registration of an `externalAccountId` atomically (no two
///   registrations of one id). The `maxUnfinished` bound is exact on SQLite (every submit is
///   serialised); on PostgreSQL it is read without a lock from sharded counts, so submits
///   committing at the same instant may pass it by at most their number minus one.
/// - A job is leased to at most one owner at a time: `claimJobs` never answers a job whose lease
///   is live or one in `excluding`, and answers it again once its lease has passed (PostgreSQL:
///   `FOR UPDATE SKIP LOCKED`). `releaseForeignLeases` ends every lease not held by `owner` on
///   SQLite, which one process owns; on PostgreSQL it ends none (the other leases may be live
///   replicas'; a dead one's end by expiry). A backend shared by processes fences job writes: a
///   write by an owner whose lease another claim took throws and changes nothing.
/// - `finish` never changes an operation that has ended, and records an ending's `events` only
///   when it is the call that ended it (and then in its transaction).
/// - Every job write stores the upstream calls it is given (`calls`), atomically with the write;
///   a call naming an operation that does not exist fails the whole write.
/// - Once committed, `submit` publishes `StoreCommit.jobDue`, and `finish` (or a `release` that
///   ends expired operations) `StoreCommit.operationsEnded` (see `CommitFeed`).
protocol OperationStore: Sendable {
    /// Records a new operation (state `queued`) and makes its job due, in one transaction.
    func submit(_ submission: Submission) async throws -> SubmitOutcome

    func operation(_ id: String) async throws -> StoredOperation?
    /// The operations with these ids (those that exist), in the order given.
    func operations(_ ids: [String]) async throws -> [StoredOperation]
    /// The queued operations of one job, oldest first.
    func queued(merchantId: String, resource: String, limit: Int) async throws -> [StoredOperation]
    /// Unfinished operations of one job created at or before `cutoff` (those past the retry window).
    func unfinished(merchantId: String, resource: String, createdAtOrBefore cutoff: Int64) async throws -> [StoredOperation]
    /// The trace of the job's oldest unfinished operation (nil: none, or stored without one).
    func trace(merchantId: String, resource: String) async throws -> TraceRecord?
    /// The upstream calls stored for an operation, oldest first.
    func calls(of operationId: String) async throws -> [UpstreamCall]
    /// The public document, with its call log.
    func document(_ id: String) async throws -> Operation?
    /// A page of documents, newest first, after the cursor `after` (an operation id).
    func list(_ query: OperationQuery) async throws -> [Operation]

    // MARK: Jobs and leases

    /// At start: leases of processes that no longer exist are void. Answers how many ended.
    func releaseForeignLeases(owner: String) async throws -> Int
    /// Whether `claimJobs` would find anything now (a cheap look before a claim).
    func hasClaimableJobs(now: Int64, excluding busy: Set<ClaimedJobKey>) async throws -> Bool
    /// Leases up to `limit` due, unleased jobs (not in `busy`) to `owner` until `leaseUntil`, earliest due first.
    func claimJobs(owner: String, now: Int64, leaseUntil: Int64, limit: Int, excluding busy: Set<ClaimedJobKey>) async throws -> [ClaimedJob]
    /// The earliest due time of an unleased job (nil: none).
    func nextJobDue() async throws -> Int64?
    /// Extends a lease `owner` holds.
    func renew(_ job: ClaimedJob, owner: String, leaseUntil: Int64, calls: [LoggedCall]) async throws
    /// Hands a job back after a run (its lease ends).
    func release(_ job: ClaimedJob, _ release: JobRelease, calls: [LoggedCall]) async throws
    /// Clean shutdown: every lease of `owner` goes back, due as it was.
    func releaseAll(owner: String) async throws

    // MARK: A job run's writes

    /// The write a run left committed and unanswered for this job, if any.
    func pendingWrite(merchantId: String, resource: String) async throws -> PendingWrite?
    /// Stores a write before it is sent (its key durable first) and marks its operations running (one more attempt).
    func begin(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws
    /// Drops a pending write whose key must not be reused; its running operations are queued again.
    func abandon(_ write: PendingWrite, now: Int64, calls: [LoggedCall]) async throws
    func deletePendingWrite(merchantId: String, resource: String, calls: [LoggedCall]) async throws
    /// One more attempt for these running operations.
    func countAttempt(_ operationIds: [String], now: Int64, calls: [LoggedCall]) async throws
    /// Rokt answered 202 with an operation id: a restart resumes polling from it.
    func setUpstreamOperation(_ upstreamId: String, merchantId: String, resource: String, calls: [LoggedCall]) async throws
    /// A register Rokt answered: the registration learns its account id, the operation moves
    /// under that merchant, and `event` (if any) is recorded, in one transaction.
    func recordRegistration(_ registration: RegistrationAnswer, now: Int64, calls: [LoggedCall]) async throws
    /// Ends operations in one transaction (results stored once per distinct document), with their
    /// events; `deletePendingWriteOf` drops that job's pending write in the same transaction.
    func finish(_ endings: [OperationFinish], deletePendingWriteOf job: ClaimedJobKey?, now: Int64, calls: [LoggedCall]) async throws
}

/// What `submit` stores.
struct Submission: Sendable {
    var operation: StoredOperation
    /// The caller's Idempotency-Key: bound to the operation in the same transaction.
    var inboundKey: InboundKey?
    /// A register: binds the externalAccountId to this operation unless a live one registers it.
    var registration: MerchantRegistration?
    /// Unfinished operations (this one included) beyond which the submit is refused.
    var maxUnfinished: Int
}

struct MerchantRegistration: Sendable, Equatable {
    var externalAccountId: String
    var name: String
}

enum SubmitOutcome: Sendable {
    case accepted
    /// Another live operation registers this externalAccountId (as it is at the submit; the
    /// caller's key, if any, is bound to it); nothing new was stored.
    case alreadyRegistering(Operation)
    /// `maxUnfinished` operations are queued or running already; nothing was stored.
    case queueFull(limit: Int)
}

/// The filter and page of `OperationStore.list`.
struct OperationQuery: Sendable {
    /// nil: every merchant; empty: none.
    var merchantIds: Set<String>?
    var merchantId: String?
    var state: OperationState?
    var limit: Int
    var after: String?
}

/// An operation row with what the engine needs beyond the public document.
struct StoredOperation: Sendable, Equatable {
    var id: String
    var type: String
    var merchantId: String
    var resource: String
    var state: OperationState
    var changed: Bool?
    var attempts: Int
    var createdAt: Int64
    var updatedAt: Int64
    var request: JSONValue
    var intent: OperationIntent
    var result: JSONValue?
    var error: Problem?
    var apiKeyId: String?
    /// The W3C trace of the request that created it (nil for operations stored before traces).
    var trace: TraceRecord? = nil

    func document(upstream: [UpstreamCall]) -> Operation {
        Operation(
            id: id, type: type, merchantId: merchantId, state: state, changed: changed, attempts: attempts,
            createdAt: Timestamp.format(createdAt), updatedAt: Timestamp.format(updatedAt), request: request,
            result: result, error: error, upstream: upstream, traceId: trace?.traceId)
    }
}

/// How `finish` ends one operation.
struct OperationFinish: Sendable {
    var id: String
    var succeeded: Bool
    var changed: Bool?
    /// The result document, encoded.
    var result: String?
    /// Stamped with the operation id.
    var error: Problem?
    /// A privacy request's intent with its raw identifiers hashed: it replaces the stored one, the
    /// job's pending write for this operation alone goes, and the raw bytes leave the files.
    var redactedIntent: OperationIntent?
    /// The events the ending causes: a pure function of the ending, called only when this call
    /// ends the operation and some webhook endpoint is enabled (most gateways have none, and
    /// their endings then build no event at all).
    var events: @Sendable () -> [NewWebhookEvent]
}

/// A job's state after a run.
enum JobRelease: Sendable {
    /// Nothing left for this run: due again at `now` if queued operations or a pending write
    /// remain (work arrived meanwhile), otherwise not due.
    case idle(now: Int64)
    /// Due again at `dueAt` with `attempts` for the backoff; `expired` end in the same
    /// transaction, and the pending write goes too when `deletePendingWrite`.
    case retry(dueAt: Int64, attempts: Int, expired: [OperationFinish], deletePendingWrite: Bool, now: Int64)
}

/// A register's answer, for `recordRegistration`.
struct RegistrationAnswer: Sendable {
    var operationId: String
    var accountId: String
    var externalAccountId: String
    /// `merchant.registered`, for an account Rokt created.
    var event: NewWebhookEvent?
}

/// An upstream call made by a job run, stored with the run's next write.
struct LoggedCall: Sendable {
    var call: UpstreamCall
    var operationIds: [String]
}

/// A (merchant, resource) job claimed by this process.
struct ClaimedJob: Sendable, Hashable {
    var merchantId: String
    var resource: String
    var attempts: Int
    /// When the lease taken by the claim runs out (wall-clock milliseconds).
    var leaseUntil: Int64 = 0
}

/// Identity of a job, for in-memory bookkeeping.
struct ClaimedJobKey: Hashable, Sendable {
    var merchantId: String
    var resource: String
    init(_ job: ClaimedJob) { merchantId = job.merchantId; resource = job.resource }
    init(merchantId: String, resource: String) { self.merchantId = merchantId; self.resource = resource }
}

/// The upstream write in flight for a job.
struct PendingWrite: Sendable, Equatable {
    var merchantId: String
    var resource: String
    var operationIds: [String]
    /// Engine-specific plan (per-operation outcomes, the desired state…), as JSON.
    var plan: [UInt8]
    var method: String
    var path: String
    var body: [UInt8]?
    var idempotencyKey: String
    var createdAt: Int64
    var upstreamOperationId: String?
}
