import Foundation
import HTTP
@testable import RoktSandbox
import Testing

/// A response, with its JSON parsed for assertions.
struct Reply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The whole body as a JSON object (the envelope for Partnerships responses).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var data: [String: Any]? { json["data"] as? [String: Any] }
    var error: String? { json["error"] as? String }
    var message: String { json["message"] as? String ?? "" }
    var requestId: String? { json["request_id"] as? String }
    var operationId: String? { headers["X-Operation-Id"] }
}

/// A live sandbox on 127.0.0.1 (port 0) with a manual clock, and a client that speaks to it
/// as `demo-parent` unless told otherwise.
struct LiveSandbox: Sendable {
    let sandbox: RoktSandbox
    let clock: ManualSandboxClock
    let client: HTTPClient

    var baseURL: String { sandbox.baseURL }

    static let demoAuth: HTTPHeaders = [
        "Authorization": "Bearer \(SandboxDemo.token)", "X-Platform-Parent-Account-Id": SandboxDemo.parentAccountId,
    ]
    static let otherAuth: HTTPHeaders = [
        "Authorization": "Bearer \(SandboxDemo.otherToken)", "X-Platform-Parent-Account-Id": SandboxDemo.otherParentAccountId,
    ]

    /// Sends a request; `auth` headers first, then `headers`; a JSON body gets its Content-Type.
    func send(
        _ method: HTTPMethod, _ path: String, json: String? = nil, key: String? = nil,
        auth: HTTPHeaders = LiveSandbox.demoAuth, headers: HTTPHeaders = HTTPHeaders(),
        using client: HTTPClient? = nil
    ) async throws -> Reply {
        var all = auth
        if json != nil { all.add(name: "Content-Type", value: "application/json") }
        if let key { all.add(name: "Idempotency-Key", value: key) }
        for field in headers { all.add(name: field.name, value: field.value) }
        let request = HTTPClientRequest(method: method, url: baseURL + path, headers: all, body: json.map { Array($0.utf8) })
        let response = try await (client ?? self.client).execute(request)
        return Reply(status: response.status.code, headers: response.headers, body: response.body)
    }

    func get(_ path: String, auth: HTTPHeaders = LiveSandbox.demoAuth) async throws -> Reply {
        try await send(.get, path, auth: auth)
    }

    /// A write with a fresh Idempotency-Key unless one is given.
    func write(
        _ method: HTTPMethod, _ path: String, _ json: String?, key: String = UUID().uuidString,
        auth: HTTPHeaders = LiveSandbox.demoAuth
    ) async throws -> Reply {
        try await send(method, path, json: json, key: key, auth: auth)
    }

    func controlsPath(_ account: String = SandboxDemo.merchant1) -> String {
        "/v1/partnership/accounts/\(account)/marketplacecontrolslists"
    }

    func statusPath(_ account: String = SandboxDemo.merchant1) -> String {
        "/v1/partnership/accounts/\(account)/status"
    }

    func contentHash(_ account: String) async throws -> String {
        try await get(controlsPath(account)).data?["contentHash"] as? String ?? ""
    }
}

/// Runs `body` against a fresh sandbox on `group` (the shared loops by default); shuts it down afterwards.
func withSandbox(
    group: EventLoopGroup = .shared,
    _ configure: (inout RoktSandbox.Configuration) -> Void = { _ in },
    _ body: (LiveSandbox) async throws -> Void
) async throws {
    let clock = ManualSandboxClock()
    var configuration = RoktSandbox.Configuration(seed: .demo, clock: clock)
    configuration.randomSeed = 42
    configure(&configuration)
    let sandbox = RoktSandbox(configuration: configuration)
    try sandbox.start(host: "127.0.0.1", port: 0, group: group)
    let client = HTTPClient()
    let live = LiveSandbox(sandbox: sandbox, clock: clock, client: client)
    do {
        try await body(live)
    } catch {
        client.shutdown()
        await sandbox.shutdown()
        throw error
    }
    client.shutdown()
    await sandbox.shutdown()
}

/// The controls body the docs use, with the given verticals (`v/sub`) and domains.
func controlsJSON(
    name: String? = "Acme Network Controls", verticals: [(Int, Int)] = [], domains: [String] = [],
    contentHash: String? = nil
) -> String {
    var members: [String] = []
    if let name { members.append(#""name":"\#(name)""#) }
    let vs = verticals.map { #"{"partnerVerticalId":\#($0.0),"partnerSubVerticalId":\#($0.1),"policy":"Block"}"# }
    members.append(#""blockedVerticals":[\#(vs.joined(separator: ","))]"#)
    let ds = domains.map { #"{"domain":"\#($0)","policy":"Block"}"# }
    members.append(#""domains":[\#(ds.joined(separator: ","))]"#)
    if let contentHash { members.append(#""contentHash":"\#(contentHash)""#) }
    return "{" + members.joined(separator: ",") + "}"
}

/// `(partnerVerticalId, partnerSubVerticalId)` pairs of a controls `data`.
func verticalPairs(_ data: [String: Any]?) -> [[Int]] {
    (data?["blockedVerticals"] as? [[String: Any]] ?? []).map { [$0["partnerVerticalId"] as? Int ?? -1, $0["partnerSubVerticalId"] as? Int ?? -1] }
}

func domainNames(_ data: [String: Any]?) -> [String] {
    (data?["domains"] as? [[String: Any]] ?? []).compactMap { $0["domain"] as? String }
}

/// `pageVariantId: status` of a cascade `data`.
func variantStatuses(_ data: [String: Any]?) -> [String: String] {
    var result: [String: String] = [:]
    for variant in data?["variants"] as? [[String: Any]] ?? [] {
        result[variant["pageVariantId"] as? String ?? "?"] = variant["status"] as? String
    }
    return result
}
