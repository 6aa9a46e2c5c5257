import FoundationEssentials
import HTTP
import JSON

/// The admin surface under `/__sandbox/`: plain JSON (no envelope), no auth, never logged and
/// never hit by faults. Meant for loopback; `RoktSandbox.Configuration.adminRoutesEnabled`
/// (`rokt-sandbox --no-admin`) turns it off.
///
/// | method and path | body | answer |
/// |---|---|---|
/// | `GET /__sandbox/requests` | | `{requests: [SandboxLoggedRequest]}` oldest first |
/// | `DELETE /__sandbox/requests` | | `{cleared: n, requests: [SandboxLoggedRequest]}`: what it removed |
/// | `GET /__sandbox/faults` | | `{faults: [{id, remaining, kind, …}]}` |
/// | `POST /__sandbox/faults` | one fault (`SandboxFault.init(json:)`) | 201 `{id, remaining, kind, …}` |
/// | `DELETE /__sandbox/faults` | | `{cleared: n}` |
/// | `POST /__sandbox/reset` | | `{reset: true}`: back to the seed |
/// | `POST /__sandbox/clock/advance` | `{seconds}` | `{now}` |
/// | `GET /__sandbox/accounts/{account_id}` | | the account's full state, archived variants included |
/// | `GET /__sandbox/shapes` | | the response shapes in force (`SandboxResponseShapes`) |
/// | `POST /__sandbox/shapes` | `{preset?, accountList?, envelope?, memberNames?, numbersAsStrings?, idsAsNumbers?, unknownMembers?}` | the shapes now in force |
enum SandboxAdminRoutes {
    static func register(on router: inout Router, engine: SandboxEngine) {
        router.get("/__sandbox/requests") { _ in
            let entries = engine.state.withLock { $0.log.entries }
            return encoded(200, ["requests": entries])
        }
        router.delete("/__sandbox/requests") { _ in
            // The removed entries come back in the same step, so draining the log periodically
            // (GET then DELETE would lose what arrives between the two) misses nothing.
            let entries = engine.state.withLock { state in
                defer { state.log.removeAll() }
                return state.log.entries
            }
            return encoded(200, ClearedRequests(cleared: entries.count, requests: entries))
        }
        router.get("/__sandbox/faults") { _ in
            let active = engine.state.withLock { $0.faults.active }
            return json(200, ["faults": .array(active.map { .object(describe($0)) })])
        }
        router.post("/__sandbox/faults") { request in
            do throws(SandboxError) {
                guard let body = try JSONValue.parseBody(request.body) else { throw .validation("The request body must be one fault object") }
                let fault = try SandboxFault(json: body)
                let active = engine.state.withLock { state in
                    let id = state.faults.add(fault)
                    return ActiveFault(id: id, fault: fault, remaining: fault.initialBudget)
                }
                return json(201, describe(active))
            } catch {
                return json(400, ["error": .string(error.message)])
            }
        }
        router.delete("/__sandbox/faults") { _ in
            let count = engine.state.withLock { state in
                defer { state.faults.removeAll() }
                return state.faults.active.count
            }
            return json(200, ["cleared": .integer(count)])
        }
        router.post("/__sandbox/reset") { _ in
            let reading = engine.clock.now
            engine.state.withLock { $0.reset(now: $0.now(reading)) }
            return json(200, ["reset": .bool(true)])
        }
        router.post("/__sandbox/clock/advance") { request in
            do throws(SandboxError) {
                guard let body = try JSONValue.parseBody(request.body) else { throw .validation("The request body must be {\"seconds\": n}") }
                var reader = try JSONObjectReader(body)
                guard let seconds = try reader.number("seconds"), seconds >= 0, seconds.isFinite else {
                    throw .validation("seconds is required: a number ≥ 0")
                }
                try reader.rejectUnknownMembers(allowed: "seconds")
                let reading = engine.clock.now
                let now = engine.state.withLock { state in
                    state.clockOffset += seconds
                    return state.now(reading)
                }
                return json(200, ["now": .string(Timestamp.format(now))])
            } catch {
                return json(400, ["error": .string(error.message)])
            }
        }
        router.get("/__sandbox/shapes") { _ in
            json(200, engine.state.withLock { $0.shapes }.json)
        }
        router.post("/__sandbox/shapes") { request in
            do throws(SandboxError) {
                guard let body = try JSONValue.parseBody(request.body) else { throw .validation("The request body must be a shapes object") }
                let current = engine.state.withLock { $0.shapes }
                let shapes = try current.updated(with: body)
                engine.state.withLock { $0.setShapes(shapes) }
                return json(200, shapes.json)
            } catch {
                return json(400, ["error": .string(error.message)])
            }
        }
        router.get("/__sandbox/accounts/{account_id}") { request in
            let id = request.pathParameters["account_id"] ?? ""
            guard let account = engine.state.withLock({ $0.world.accounts[id] }) else {
                return json(404, ["error": .string("No account \(id)")])
            }
            return encoded(200, AccountSnapshot(account))
        }
    }

    static func describe(_ active: ActiveFault) -> [String: JSONValue] {
        var members = active.fault.json
        members["id"] = .string(active.id)
        members["remaining"] = active.remaining.map(JSONValue.integer) ?? .null
        return members
    }

    static func json(_ status: Int, _ members: [String: JSONValue]) -> HTTPResponse {
        encoded(status, JSONValue.object(members))
    }

    static func encoded<T: Encodable>(_ status: Int, _ value: T) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let body = (try? encoder.encode(value)).map { Array($0) } ?? Array(#"{"error":"unencodable"}"#.utf8)
        return HTTPResponse(status: HTTPStatus(code: status), headers: ["Content-Type": "application/json"], body: body)
    }
}

/// An account's whole state for `GET /__sandbox/accounts/{id}` (what the API does not show:
/// archived variants, layouts, the requested status).
struct ClearedRequests: Encodable {
    var cleared: Int
    var requests: [SandboxLoggedRequest]
}

struct AccountSnapshot: Encodable {
    struct Variant: Encodable {
        var pageVariantId: String, pageId: String, name: String, status: VariantStatus, archived: Bool
    }

    var account: AccountView
    var controls: ControlsView
    var cascade: StatusCascade
    var requestedStatus: VariantStatus
    var variants: [Variant]
    var pages: [PageView]
    var layouts: [LayoutView]

    init(_ account: ManagedAccount) {
        self.account = AccountView(account)
        controls = ControlsView(accountId: account.accountId, controls: account.controls)
        cascade = account.statusCascade
        requestedStatus = account.requestedStatus
        variants = account.allVariants.map {
            Variant(pageVariantId: $0.pageVariantId, pageId: $0.pageId, name: $0.name, status: $0.status, archived: $0.isArchived)
        }
        pages = account.pages.map { PageView(accountId: account.accountId, page: $0) }
        layouts = account.pages.map { LayoutView(accountId: account.accountId, page: $0) }
    }
}
