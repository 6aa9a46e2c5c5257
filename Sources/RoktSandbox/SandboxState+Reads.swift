import FoundationEssentials

extension SandboxState {
    /// The GETs. `?dry_run` is ignored on them, as the docs say.
    mutating func read(_ call: SandboxCall, caller: Caller, now: Date, requestId: String) throws(SandboxError) -> SandboxReply {
        switch call.endpoint {
        case .listAccounts:
            return .success(200, data: .accounts(try listAccounts(call.query, caller: caller)), requestId: requestId)
        case .getControls:
            let accountId = call.pathParameters["account_id"] ?? ""
            let reply = SandboxReply.success(200, data: .controls(ControlsView(accountId: accountId, controls: world.accounts[accountId]!.controls)), requestId: requestId)
            // The foreign writer strikes after this GET's answer is computed: its hash is now stale.
            if let edit = faults.takeForeignEdit(accountId: accountId) { applyForeignEdit(edit) }
            return reply
        case .getStatus:
            let accountId = call.pathParameters["account_id"] ?? ""
            return .success(200, data: .cascade(world.accounts[accountId]!.statusCascade), requestId: requestId)
        case .getOperation:
            return .success(200, data: .operation(try poll(call.pathParameters["operation_id"] ?? "", caller: caller, now: now)), requestId: requestId)
        default:
            throw .notFound("No endpoint \(call.method) \(call.path)")
        }
    }

    static let defaultPageSize = 50
    static let maxPageSize = 100

    /// `GET /v1/partnership/accounts?parent_account_id=&limit=&cursor=`: the caller's managed
    /// accounts ordered by accountId, `limit` (1–100, default 50) per page; `nextCursor` (opaque)
    /// fetches the next page and is null on the last one. `parent_account_id` defaults to the
    /// caller's manager; another manager's id is a 403.
    private func listAccounts(_ query: [String: String], caller: Caller) throws(SandboxError) -> AccountListView {
        if let parent = query["parent_account_id"], !parent.isEmpty, parent != caller.managerAccountId {
            throw .forbidden("parent_account_id \(parent) is not the manager account of this token")
        }
        var limit = Self.defaultPageSize
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...Self.maxPageSize).contains(value) else {
                throw .validation("limit must be an integer from 1 to \(Self.maxPageSize), got \"\(raw)\"")
            }
            limit = value
        }
        var after: String?
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let decoded = Cursor.decode(cursor) else { throw .validation("cursor \"\(cursor)\" is not a cursor this API returned") }
            after = decoded
        }
        let all = world.accounts.values.filter { $0.parentAccountId == caller.managerAccountId }.map(\.accountId).sorted()
        let remaining = after.map { last in all.filter { $0 > last } } ?? all
        let page = Array(remaining.prefix(limit))
        let next = remaining.count > limit ? page.last.map(Cursor.encode) : nil
        return AccountListView(accounts: page.map { AccountView(world.accounts[$0]!) }, nextCursor: next)
    }

    /// Cursors are `c_` + the hex of the last accountId served: opaque to clients, stable
    /// across writes (a page never repeats or skips an account that existed when it was read).
    enum Cursor {
        static func encode(_ accountId: String) -> String {
            "c_"
                + accountId.utf8.map { byte in
                    let hex = String(byte, radix: 16)
                    return hex.count == 1 ? "0" + hex : hex
                }.joined()
        }

        static func decode(_ cursor: String) -> String? {
            guard cursor.hasPrefix("c_") else { return nil }
            let hex = Array(cursor.utf8.dropFirst(2))
            guard !hex.isEmpty, hex.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: hex.count, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
            }
            return String(validating: bytes, as: UTF8.self)
        }
    }

    /// One poll. Another manager's operation is a 404, exactly like an unknown id.
    private mutating func poll(_ operationId: String, caller: Caller, now: Date) throws(SandboxError) -> OperationView {
        guard var operation = operations[operationId], operation.managerAccountId == caller.managerAccountId else {
            throw .notFound("Operation \(operationId) not found")
        }
        if operation.state == .pending {
            if operation.pollsRemaining > 0 {
                operation.pollsRemaining -= 1
            } else if let write = operation.deferred {
                let stuck: Set<String>
                if case .setStatus(let accountId, _) = write { stuck = faults.takeStuckVariants(accountId: accountId) } else { stuck = [] }
                do {
                    let result = try world.commit(write, now: now, stuckVariants: stuck)
                    operation.state = .succeeded
                    operation.result = result.data
                    operation.accountId = result.accountId
                } catch {
                    operation.state = .failed
                    operation.error = error
                }
                operation.deferred = nil
            }
            operation.updatedAt = now
            operations[operationId] = operation
        }
        return operation.view
    }

    /// The foreign writer's edit: the fields it names replace the current ones; with none, a
    /// new blocked domain is added so the contentHash surely changes.
    mutating func applyForeignEdit(_ edit: ForeignControlsEdit) {
        guard var account = world.accounts[edit.accountId] else { return }
        let current = account.controls
        if edit.name == nil && edit.blockedVerticals == nil && edit.domains == nil {
            foreignEdits += 1
            account.controls = MarketplaceControls(
                name: current.name, blockedVerticals: current.blockedVerticals,
                domains: current.domains + [BlockedDomain(domain: "foreign-edit-\(foreignEdits).example.com")])
        } else {
            account.controls = MarketplaceControls(
                name: edit.name ?? current.name, blockedVerticals: edit.blockedVerticals ?? current.blockedVerticals,
                domains: edit.domains ?? current.domains)
        }
        world.accounts[edit.accountId] = account
    }
}
