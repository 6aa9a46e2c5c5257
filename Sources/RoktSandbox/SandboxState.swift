import FoundationEssentials
import HTTP

/// What the core needs from the configuration and never changes while it runs.
struct SandboxSettings: Sendable {
    var seed: SandboxSeed
    /// Bearer token → the manager (parent) account it speaks for.
    var credentials: [String: String]
    var primaryParentAccountId: String
    var mapping: PartnerVerticalMapping
    var ecommerceApiKey: String
    var tagId: String
    var placementResults: [String: Bool]
    var defaultPlacementResult: Bool
    var requestLogLimit: Int
    var operationLimit: Int
    var idempotencyLimit: Int
    var shapes: SandboxResponseShapes = .standard
}

/// The whole simulated Rokt as one value: accounts, operations, the idempotency cache, the
/// faults in force and the request log. Pure and synchronous: no I/O and no clock of its own
/// (the time is passed in), so it is tested without sockets. The shell keeps it behind one
/// lock and calls `admit`, then (after any injected delay) `complete`, once per request.
struct SandboxState: Sendable {
    let settings: SandboxSettings
    var world: SandboxWorld
    var operations: OperationLedger
    var idempotency: IdempotencyCache
    var faults: FaultPlan
    var log: RequestLog
    var requestIds: RequestIdSequence
    /// Seconds added to the injected clock (`POST /__sandbox/clock/advance`); survives `reset`.
    var clockOffset: TimeInterval = 0
    /// Numbers the default foreign-edit domains.
    var foreignEdits = 0
    /// How successful answers are shaped (`POST /__sandbox/shapes`); survives `reset`.
    private(set) var shapes: SandboxResponseShapes = .standard

    mutating func setShapes(_ shapes: SandboxResponseShapes) {
        self.shapes = shapes
        world.numericAccountIds = shapes.idsAsNumbers
    }

    init(settings: SandboxSettings, now: Date, randomSeed: UInt64) {
        self.settings = settings
        world = .seeded(settings.seed, parentAccountId: settings.primaryParentAccountId, mapping: settings.mapping, now: now)
        operations = OperationLedger(limit: settings.operationLimit)
        idempotency = IdempotencyCache(limit: settings.idempotencyLimit)
        faults = FaultPlan(randomSeed: randomSeed)
        log = RequestLog(limit: settings.requestLogLimit)
        requestIds = RequestIdSequence(prefix: randomSeed &* 0x9E37_79B9_7F4A_7C15)
        setShapes(settings.shapes)
    }

    /// Back to the seed: accounts, operations, idempotency records, faults and log. Ids keep
    /// counting and the clock offset stays (time does not go back).
    mutating func reset(now: Date) {
        let serial = world.serial
        world = .seeded(settings.seed, parentAccountId: settings.primaryParentAccountId, mapping: settings.mapping, now: now)
        world.serial = serial
        world.numericAccountIds = shapes.idsAsNumbers
        operations.removeAll()
        idempotency.removeAll()
        faults.removeAll()
        log.removeAll()
        foreignEdits = 0
    }

    func now(_ clockReading: Date) -> Date { clockReading.addingTimeInterval(clockOffset) }

    // MARK: The request pipeline

    /// Step 1: the faults that decide this request's fate before it runs.
    mutating func admit(_ call: SandboxCall) -> Admission {
        faults.admit(method: call.method, path: call.path)
    }

    /// Step 2: run the request (unless a fault answers instead), log it, and say what to send.
    mutating func complete(_ call: SandboxCall, admission: Admission, clockReading: Date) -> SandboxOutcome {
        let now = now(clockReading)
        let requestId = requestIds.next()
        var fault: String? = admission.delayMilliseconds > 0 ? "latency" : nil
        var replayed = false
        let reply: SandboxReply?
        if let before = admission.before {
            reply = injected(before, call: call, requestId: requestId)
            fault = before == .drop ? "drop" : "status"
        } else {
            let executed = execute(call, now: now, requestId: requestId)
            replayed = executed.replayed
            if executed.heldPending { fault = "pendingOperation" }
            if let after = admission.after {
                reply = injected(after, call: call, requestId: requestId)
                fault = after == .drop ? "drop" : "status"
            } else {
                reply = executed.reply
            }
        }
        log.append(
            SandboxLoggedRequest(
                method: call.method, path: call.path, query: call.query,
                headers: call.headers.map { .init(name: $0.name, value: $0.value) }, body: String(decoding: call.body, as: UTF8.self),
                status: reply?.status, requestId: requestId, replayed: replayed, fault: fault, receivedAt: now))
        return reply.map(SandboxOutcome.respond) ?? .drop
    }

    /// Both steps at once, ignoring any delay: for tests of the core.
    mutating func handle(_ call: SandboxCall, clockReading: Date) -> SandboxOutcome {
        let admission = admit(call)
        return complete(call, admission: admission, clockReading: clockReading)
    }

    private func injected(_ outcome: Admission.Outcome, call: SandboxCall, requestId: String) -> SandboxReply? {
        guard case .answer(let status, let retryAfter) = outcome else { return nil }
        var headers = HTTPHeaders()
        if let retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
        if call.isEcommerce {
            return PlacementsError.injected(status: status).reply(requestId: requestId, headers: headers)
        }
        return .failure(.injected(status: status), requestId: requestId, headers: headers)
    }

    struct Executed {
        var reply: SandboxReply
        var replayed = false
        var heldPending = false
    }

    /// Routing refusals, auth, then the read or the write.
    private mutating func execute(_ call: SandboxCall, now: Date, requestId: String) -> Executed {
        switch call.endpoint {
        case .placementsAny:
            return Executed(reply: placements(call, requestId: requestId))
        case .notFound:
            return Executed(reply: .failure(.notFound("No endpoint \(call.method) \(call.path)"), requestId: requestId))
        case .methodNotAllowed(let allowed):
            let error = SandboxError(status: 405, code: "method_not_allowed", message: "\(call.method) is not allowed on \(call.path)")
            return Executed(reply: .failure(error, requestId: requestId, headers: ["Allow": allowed.joined(separator: ", ")]))
        case .badPath(let reason):
            return Executed(reply: .failure(SandboxError(status: 400, code: "bad_request", message: reason), requestId: requestId))
        default:
            break
        }
        do {
            let caller = try authenticate(call.headers)
            if let accountId = call.pathParameters["account_id"] { try authorize(caller, accountId: accountId) }
            guard call.endpoint.isWrite else { return Executed(reply: try read(call, caller: caller, now: now, requestId: requestId)) }
            let key = try idempotencyKey(call.headers)
            if var cached = idempotency.lookup(credential: caller.token, key: key, now: now) {
                cached.headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
                cached.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
                return Executed(reply: cached, replayed: true)
            }
            let executed = try write(call, caller: caller, now: now, requestId: requestId)
            if (200..<300).contains(executed.reply.status) {
                idempotency.store(executed.reply, credential: caller.token, key: key, now: now)
            }
            return executed
        } catch {
            var headers = HTTPHeaders()
            if error.status == 401 { headers.add(name: "WWW-Authenticate", value: #"Bearer realm="rokt-partnerships""#) }
            return Executed(reply: .failure(error, requestId: requestId, headers: headers))
        }
    }

    // MARK: Auth

    struct Caller: Sendable {
        var token: String
        var managerAccountId: String
    }

    /// 401 without a known bearer token. `X-Platform-Parent-Account-Id` is optional (the token
    /// already names the manager, and the docs' controls examples omit it); when sent it must
    /// name the token's manager, else 403.
    func authenticate(_ headers: HTTPHeaders) throws(SandboxError) -> Caller {
        guard let authorization = headers["Authorization"] else {
            throw .unauthorized("Missing Authorization header: send Authorization: Bearer <token>")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].asciiCaseInsensitiveEquals("Bearer"), !parts[1].isEmpty else {
            throw .unauthorized("The Authorization header must be Bearer <token>")
        }
        let token = String(parts[1])
        guard let manager = settings.credentials[token] else { throw .unauthorized("The bearer token is not valid") }
        if let claimed = headers["X-Platform-Parent-Account-Id"], claimed != manager {
            throw .forbidden("X-Platform-Parent-Account-Id \(claimed) is not the manager account of this token")
        }
        return Caller(token: token, managerAccountId: manager)
    }

    /// 403 unless `accountId` exists and is managed by the caller (unknown ids get 403 too,
    /// so that probing reveals nothing about other managers' merchants).
    func authorize(_ caller: Caller, accountId: String) throws(SandboxError) {
        guard let account = world.accounts[accountId], account.parentAccountId == caller.managerAccountId else {
            throw .forbidden("Account \(accountId) is not managed by manager account \(caller.managerAccountId)")
        }
    }

    /// 1 to 255 visible ASCII characters; 400 when missing or malformed.
    private func idempotencyKey(_ headers: HTTPHeaders) throws(SandboxError) -> String {
        guard let key = headers["Idempotency-Key"], !key.isEmpty else {
            throw SandboxError(status: 400, code: "idempotency_key_required", message: "Every write requires an Idempotency-Key header")
        }
        guard key.utf8.count <= 255, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw SandboxError(
                status: 400, code: "invalid_idempotency_key",
                message: "Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        return key
    }
}
