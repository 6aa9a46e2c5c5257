import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// The common rules of every write (openapi/gateway.yaml), checked on each row of
/// `WriteEndpoint.all` against the real gateway and sandbox: the key first; a request that fails
/// validation stores nothing under its Idempotency-Key; a valid one runs, replays, and refuses
/// another request under its key; `dry_run` answers as the row says.
@Suite struct WritePipelineTests {
    /// One request to an endpoint: its path (parameters filled in, query included) and body.
    struct Call: Sendable {
        var path: String
        var body: String?
    }

    /// What exercises one endpoint: a request refused with a field error, and two valid, different ones.
    struct Samples: Sendable {
        var invalid: Call
        var invalidField: String
        var valid: Call
        var other: Call
    }

    static let m1 = SandboxDemo.merchant1, m2 = SandboxDemo.merchant2
    static let controls1 = "/v1/merchants/\(m1)/controls", controls2 = "/v1/merchants/\(m2)/controls"
    static let identifier = #"[{"type":"email","value":"jane@example.com"}]"#

    /// By `WriteEndpoint.description`. A row added to the table without samples fails its test.
    static let samples: [String: Samples] = [
        "POST /v1/merchants": Samples(
            invalid: Call(path: "/v1/merchants", body: #"{"externalAccountId":"has space","name":"Shop"}"#), invalidField: "externalAccountId",
            valid: Call(path: "/v1/merchants", body: #"{"externalAccountId":"pipeline-1","name":"Shop"}"#),
            other: Call(path: "/v1/merchants", body: #"{"externalAccountId":"pipeline-2","name":"Shop"}"#)),
        "PUT /v1/merchants/{accountId}/controls": Samples(
            invalid: Call(path: controls1, body: #"{"blockedVerticals":[{"partnerVerticalId":1500}],"blockedDomains":[]}"#),
            invalidField: "blockedVerticals[0].partnerSubVerticalId",
            valid: Call(path: controls1, body: #"{"blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610}],"blockedDomains":["a.example"]}"#),
            other: Call(path: controls1, body: #"{"blockedVerticals":[],"blockedDomains":["b.example"]}"#)),
        "PATCH /v1/merchants/{accountId}/controls": Samples(
            invalid: Call(path: controls1, body: #"{"add":{"domains":["not a domain"]}}"#), invalidField: "add.domains[0]",
            valid: Call(path: controls1, body: #"{"add":{"domains":["a.example"]}}"#),
            other: Call(path: controls1, body: #"{"remove":{"domains":["a.example"]}}"#)),
        "POST /v1/merchants/{accountId}/controls/blocked-verticals": Samples(
            invalid: Call(path: controls1 + "/blocked-verticals", body: #"{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Allow"}"#),
            invalidField: "policy",
            valid: Call(path: controls1 + "/blocked-verticals", body: #"{"partnerVerticalId":1500,"partnerSubVerticalId":1610}"#),
            other: Call(path: controls1 + "/blocked-verticals", body: #"{"partnerVerticalId":1502,"partnerSubVerticalId":1620,"policy":"Block"}"#)),
        "DELETE /v1/merchants/{accountId}/controls/blocked-verticals/{partnerVerticalId}": Samples(
            invalid: Call(path: controls2 + "/blocked-verticals/0"), invalidField: "partnerVerticalId",
            valid: Call(path: controls2 + "/blocked-verticals/1500?partnerSubVerticalId=1610"),
            other: Call(path: controls2 + "/blocked-verticals/1502")),
        "POST /v1/merchants/{accountId}/controls/blocked-domains": Samples(
            invalid: Call(path: controls1 + "/blocked-domains", body: #"{"domain":"not a domain"}"#), invalidField: "domain",
            valid: Call(path: controls1 + "/blocked-domains", body: #"{"domain":"a.example"}"#),
            other: Call(path: controls1 + "/blocked-domains", body: #"{"domain":"b.example"}"#)),
        "DELETE /v1/merchants/{accountId}/controls/blocked-domains/{domain}": Samples(
            invalid: Call(path: controls2 + "/blocked-domains/bad..example"), invalidField: "domain",
            valid: Call(path: controls2 + "/blocked-domains/competitor.example.com"),
            other: Call(path: controls2 + "/blocked-domains/other.example")),
        "POST /v1/merchants/{accountId}/pause": Samples(
            invalid: Call(path: "/v1/merchants/\(m1)/pause", body: #"{"reason":5}"#), invalidField: "reason",
            valid: Call(path: "/v1/merchants/\(m1)/pause"),
            other: Call(path: "/v1/merchants/\(m1)/pause", body: #"{"reason":"another"}"#)),
        "POST /v1/merchants/{accountId}/resume": Samples(
            invalid: Call(path: "/v1/merchants/\(m1)/resume", body: #"{"why":"x"}"#), invalidField: "why",
            valid: Call(path: "/v1/merchants/\(m1)/resume", body: #"{"reason":"back"}"#),
            other: Call(path: "/v1/merchants/\(m1)/resume")),
        "PATCH /v1/merchants/{accountId}/layouts/{layoutId}/theme": Samples(
            invalid: Call(path: "/v1/merchants/\(m1)/layouts/\(SandboxDemo.merchant1Layout)/theme", body: #"{"primaryColor":"red"}"#),
            invalidField: "primaryColor",
            valid: Call(path: "/v1/merchants/\(m1)/layouts/\(SandboxDemo.merchant1Layout)/theme", body: ##"{"primaryColor":"#112233"}"##),
            other: Call(path: "/v1/merchants/\(m1)/layouts/\(SandboxDemo.merchant1Layout)/theme", body: ##"{"textColor":"#000000"}"##)),
        "POST /v1/merchants/{accountId}/pages": Samples(
            invalid: Call(path: "/v1/merchants/\(m1)/pages", body: #"{"type":"checkout"}"#), invalidField: "type",
            valid: Call(path: "/v1/merchants/\(m1)/pages", body: #"{"type":"returns"}"#),
            other: Call(path: "/v1/merchants/\(m1)/pages", body: #"{"type":"tracking"}"#)),
        "POST /v1/merchants/{accountId}/payout-setup": Samples(
            invalid: Call(path: "/v1/merchants/\(m1)/payout-setup", body: #"{"returnUrl":"javascript:alert(1)"}"#), invalidField: "returnUrl",
            valid: Call(path: "/v1/merchants/\(m1)/payout-setup"),
            other: Call(path: "/v1/merchants/\(m1)/payout-setup", body: #"{"returnUrl":"https://partner.example.com/done"}"#)),
        "POST /v1/merchants/{accountId}/data-deletion-requests": Samples(
            invalid: Call(path: "/v1/merchants/\(m2)/data-deletion-requests", body: #"{"reason":1}"#), invalidField: "reason",
            valid: Call(path: "/v1/merchants/\(m2)/data-deletion-requests", body: #"{"reason":"offboarded"}"#),
            other: Call(path: "/v1/merchants/\(m2)/data-deletion-requests")),
        "POST /v1/privacy-requests": Samples(
            invalid: Call(path: "/v1/privacy-requests", body: #"{"requestType":"forget","identifiers":\#(identifier)}"#), invalidField: "requestType",
            valid: Call(path: "/v1/privacy-requests", body: #"{"requestType":"opt_out","identifiers":\#(identifier)}"#),
            other: Call(path: "/v1/privacy-requests", body: #"{"requestType":"deletion","identifiers":\#(identifier)}"#)),
    ]

    /// One row at a time: fourteen gateways at once would starve the timing of the suites beside them.
    @Test(.serialized, arguments: WriteEndpoint.all)
    func commonRules(_ endpoint: WriteEndpoint) async throws {
        let samples = try #require(Self.samples[endpoint.description], "no samples for \(endpoint): add them to WritePipelineTests.samples")
        try await withGateway { gateway in
            func send(_ call: Call, key: String? = nil, anonymous: Bool = false, idempotencyKey: String? = nil) async throws -> TestResponse {
                var headers = HTTPHeaders()
                if let idempotencyKey { headers["Idempotency-Key"] = idempotencyKey }
                return try await gateway.call(endpoint.method, call.path, json: call.body, key: key, anonymous: anonymous, headers: headers)
            }
            func operationCount() async throws -> Int { try await gateway.call(.get, "/v1/operations")["data"]?.array?.count ?? -1 }

            gateway.sandbox.resetRequestLog()
            // The key comes first: no key, a key without `write`, a key limited to other merchants.
            let reader = try await gateway.makeKey([.read])
            let elsewhere = try await gateway.makeKey([.read, .write], merchants: ["acct_someone_else"])
            let refusals: [(key: String?, status: Int, code: String)] = [(nil, 401, "unauthenticated"), (reader, 403, "forbidden"), (elsewhere, 403, "forbidden")]
            for refusal in refusals {
                for call in [samples.valid, samples.invalid] {
                    let response = try await send(call, key: refusal.key, anonymous: refusal.key == nil, idempotencyKey: "refused")
                    #expect(response.status == refusal.status, "\(endpoint) \(call.path)")
                    #expect(response["code"] == .string(refusal.code), "\(endpoint)")
                }
            }
            if endpoint.merchant == .path {
                // Before the path parameters too: an unsafe account id is a 400 only for a caller who may write.
                let unsafe = Call(
                    path: samples.valid.path.replacingOccurrences(of: "/merchants/\(Self.m1)/", with: "/merchants/%2E%2E/")
                        .replacingOccurrences(of: "/merchants/\(Self.m2)/", with: "/merchants/%2E%2E/"), body: samples.valid.body)
                #expect(try await send(unsafe, anonymous: true).status == 401, "\(endpoint)")
                #expect(try await send(unsafe).status == 400, "\(endpoint)")
            }
            #expect(gateway.sandbox.requestLog.isEmpty, "\(endpoint): a refused caller reached Rokt")
            #expect(try await operationCount() == 0)

            // A request that fails validation stores nothing: the same key then takes the fixed request.
            let invalid = try await send(samples.invalid, idempotencyKey: "k-1")
            #expect(invalid.status == 400, "\(endpoint): \(invalid.text)")
            #expect(invalid["code"] == .string("validation_failed"))
            #expect(invalid["errors"]?.array?.compactMap { $0["field"]?.stringValue } == [samples.invalidField], "\(endpoint): \(invalid.text)")
            let again = try await send(samples.invalid, idempotencyKey: "k-1")
            #expect(again.status == 400 && again.headers["Idempotent-Replayed"] == nil, "\(endpoint): a 400 was stored under its key")
            #expect(gateway.sandbox.requestLog.isEmpty, "\(endpoint): an invalid request reached Rokt")

            // `?dry_run=true`, as the row says; it records no operation.
            let dryCall = Call(path: samples.valid.path + (samples.valid.path.contains("?") ? "&" : "?") + "dry_run=true", body: samples.valid.body)
            let dry = try await send(dryCall, idempotencyKey: "k-dry")
            switch endpoint.dryRun {
            case .preview:
                #expect(dry.status == 200, "\(endpoint): \(dry.text)")
                #expect(dry["dryRun"] == .bool(true) && dry["before"] != nil && dry["after"] != nil && dry["changes"] != nil, "\(endpoint): \(dry.text)")
            case .forwarded:
                #expect(dry.status == 200, "\(endpoint): \(dry.text)")
                #expect(dry["dryRun"] == .bool(true) && dry["after"] != nil && dry["before"] == nil, "\(endpoint): \(dry.text)")
            case .refused:
                #expect(dry.status == 400 && dry["code"] == .string("dry_run_not_supported"), "\(endpoint): \(dry.text)")
            }
            // A preview is an answer like any other, replayed under its key; a refusal stored nothing.
            let dryAgain = try await send(dryCall, idempotencyKey: "k-dry")
            #expect(dryAgain.status == dry.status)
            #expect(dryAgain.headers["Idempotent-Replayed"] == (endpoint.dryRun == .refused ? nil : "true"), "\(endpoint)")
            #expect(try await operationCount() == 0, "\(endpoint): a dry run recorded an operation")

            // The valid request under the key the 400 left free runs the operation…
            let first = try await send(samples.valid, idempotencyKey: "k-1")
            let succeeded = endpoint.createdOnSuccess ? 201 : 200
            #expect([succeeded, 202].contains(first.status), "\(endpoint): \(first.text)")
            #expect(first.headers["Idempotent-Replayed"] == nil)
            let operationId = try #require(first["id"]?.stringValue, "\(endpoint): \(first.text)")
            #expect(try await operationCount() == 1)

            // …is replayed under it, without running again…
            let replay = try await send(samples.valid, idempotencyKey: "k-1")
            #expect(replay.status == first.status && replay.body == first.body, "\(endpoint)")
            #expect(replay.headers["Idempotent-Replayed"] == "true", "\(endpoint)")
            #expect(replay["id"] == .string(operationId))

            // …and the key refuses another valid request.
            let reused = try await send(samples.other, idempotencyKey: "k-1")
            #expect(reused.status == 422 && reused["code"] == .string("idempotency_key_reused"), "\(endpoint): \(reused.text)")
            #expect(try await operationCount() == 1)
        }
    }

    /// The single pair of `POST …/blocked-verticals` is read like a pair in a list, its members named at the top level.
    @Test func aBlockedVerticalBodyIsOnePairWithTheOnlyPolicy() throws {
        func fields(_ body: String) -> [String] {
            var request = HTTPRequest(method: .post, target: "/", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
            request.pathParameters = ["accountId": "acct_1"]
            do {
                _ = try ControlsRoutes.addVertical(request)
                return []
            } catch {
                return error.errors?.map(\.field) ?? [error.code]
            }
        }
        #expect(fields(#"{"partnerVerticalId":1500,"partnerSubVerticalId":1610}"#) == [])
        #expect(fields(#"{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Block"}"#) == [])
        #expect(fields(#"{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Allow"}"#) == ["policy"])
        #expect(fields(#"{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":null}"#) == ["policy"])
        #expect(fields(#"{"partnerVerticalId":1500}"#) == ["partnerSubVerticalId"])
        #expect(fields(#"{"partnerVerticalId":"1500","partnerSubVerticalId":0,"extra":1}"#) == ["partnerVerticalId", "partnerSubVerticalId", "extra"])
        #expect(fields("[1]") == ["invalid_json"])
        let valid = try ControlsRoutes.addVertical(HTTPRequest(method: .post, target: "/", body: Array(#"{"partnerVerticalId":7,"partnerSubVerticalId":8}"#.utf8)))
        #expect(valid.request == .object(["partnerVerticalId": .number(7), "partnerSubVerticalId": .number(8)]))
        guard case .controls(.addVertical(let pair)) = valid.intent else { Issue.record("\(valid.intent)"); return }
        #expect(pair == VerticalPair(7, 8))
    }

    /// Every write needs `write`, on the path's merchant when the row says so (`KeyRequirement`,
    /// which `Authorization` checks before the pipeline runs).
    @Test(arguments: WriteEndpoint.all)
    func theHeadCheckAsksForTheSameKey(_ endpoint: WriteEndpoint) throws {
        let requirement = try #require(KeyRequirement.of(method: endpoint.method, template: endpoint.path))
        #expect(requirement.scope == .write)
        #expect(requirement.merchantParameter == (endpoint.merchant == .path ? "accountId" : nil))
    }

    /// Each method and path is one row, and every row has its samples.
    @Test func theTableListsEachEndpointOnce() {
        let names = WriteEndpoint.all.map(\.description)
        #expect(Set(names).count == names.count)
        #expect(Set(names) == Set(Self.samples.keys))
    }
}
