import FoundationEssentials
import JSON

extension SandboxState {
    /// A write that passed auth and carries a fresh Idempotency-Key: parse, then apply for
    /// real, on a scratch copy (dry-run), or hold it in a pending operation (fault).
    mutating func write(_ call: SandboxCall, caller: Caller, now: Date, requestId: String) throws(SandboxError) -> Executed {
        let dryRun = try Self.isDryRun(call.query)
        if dryRun && call.endpoint.refusesDryRun {
            throw SandboxError(
                status: 400, code: "dry_run_not_supported",
                message: "\(call.method) \(call.path) does not support dry_run=true: it has external side effects")
        }
        let write = try parse(call, caller: caller)

        if dryRun {
            // The same code as a real commit, on a copy that is thrown away: identical answer,
            // nothing persisted, no operation, no fault spent.
            var scratch = world
            let result = try scratch.commit(write, now: now)
            return Executed(reply: .success(result.status, data: result.data, requestId: requestId))
        }

        if faults.active.contains(where: { if case .pendingOperations = $0.fault { true } else { false } }) {
            var scratch = world
            _ = try scratch.commit(write, now: now)  // validation against the current state
            if let polls = faults.takePendingOperation(method: call.method, path: call.path) {
                let operation = record(write, caller: caller, now: now, state: .pending, result: nil, accountId: write.accountId, polls: polls)
                var reply = SandboxReply.success(202, data: .operation(operation.view), requestId: requestId, message: "accepted")
                reply.headers.add(name: "X-Operation-Id", value: operation.operationId)
                reply.headers.add(name: "Location", value: "/v1/partnership/operations/\(operation.operationId)")
                reply.headers.add(name: "Retry-After", value: "1")
                return Executed(reply: reply, heldPending: true)
            }
        }

        let stuck: Set<String>
        if case .setStatus(let accountId, _) = write { stuck = faults.takeStuckVariants(accountId: accountId) } else { stuck = [] }
        let result = try world.commit(write, now: now, stuckVariants: stuck)
        let operation = record(write, caller: caller, now: now, state: .succeeded, result: result.data, accountId: result.accountId, polls: 0)
        var reply = SandboxReply.success(result.status, data: result.data, requestId: requestId)
        reply.headers.add(name: "X-Operation-Id", value: operation.operationId)
        return Executed(reply: reply)
    }

    /// `dry_run=true` or `false` (any case); absent is false; anything else is a 400.
    static func isDryRun(_ query: [String: String]) throws(SandboxError) -> Bool {
        guard let raw = query["dry_run"] else { return false }
        switch raw.lowercased() {
        case "true": return true
        case "false", "": return false
        default: throw .validation("dry_run must be true or false, got \"\(raw)\"")
        }
    }

    private func parse(_ call: SandboxCall, caller: Caller) throws(SandboxError) -> SandboxWrite {
        let body = try JSONValue.parseBody(call.body)
        let accountId = call.pathParameters["account_id"] ?? ""
        switch call.endpoint {
        case .putControls:
            return .replaceControls(accountId: accountId, try ControlsReplacement.parse(body, mapping: world.mapping))
        case .putStatus:
            return .setStatus(accountId: accountId, try StatusChange.parse(body))
        case .patchLayout:
            return .patchLayout(accountId: accountId, layoutId: call.pathParameters["layout_id"] ?? "", try ThemePatch.parse(body))
        case .createPage:
            return .createPage(accountId: accountId, try PageRequest.parse(body))
        case .payoutSetup:
            return .setUpPayout(accountId: accountId, try PayoutSetupRequest.parse(body))
        case .register:
            return .register(parentAccountId: caller.managerAccountId, try Registration.parse(body))
        case .requestNetworkPrivacy:
            return .requestNetworkPrivacy(parentAccountId: caller.managerAccountId, try NetworkPrivacyRequest.parse(body))
        case .requestDataDeletion:
            return .requestDataDeletion(accountId: accountId, try DataDeletionRequest.parse(body))
        default:
            throw .notFound("No endpoint \(call.method) \(call.path)")
        }
    }

    private mutating func record(
        _ write: SandboxWrite, caller: Caller, now: Date, state: SandboxOperation.State, result: SandboxData?,
        accountId: String?, polls: Int
    ) -> SandboxOperation {
        let operation = SandboxOperation(
            operationId: world.mintId("op_"), type: write.operationType, accountId: accountId,
            managerAccountId: caller.managerAccountId, state: state, createdAt: now, updatedAt: now,
            pollsRemaining: polls, error: nil, result: result, deferred: state == .pending ? write : nil)
        operations[operation.operationId] = operation
        return operation
    }
}
