import Foundation
import HTTP
@testable import RoktSandbox
import Testing

/// `POST /__sandbox/shapes` and what each shape does to the answers.
@Suite struct ResponseShapesTests {
    func admin(_ live: LiveSandbox, _ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> Reply {
        try await live.send(method, path, json: json, auth: [:])
    }

    func any(_ reply: Reply) -> Any? { try? JSONSerialization.jsonObject(with: Data(reply.body)) }

    @Test func theAdminRouteSetsReadsAndRefusesShapes() async throws {
        try await withSandbox { (live) async throws in
            #expect(try await admin(live, .get, "/__sandbox/shapes").json["accountList"] as? String == "paginated")
            let set = try await admin(live, .post, "/__sandbox/shapes", #"{"accountList":"items","memberNames":"snake_case"}"#)
            #expect(set.status == 200)
            #expect(set.json["accountList"] as? String == "items" && set.json["memberNames"] as? String == "snake_case")
            #expect(live.sandbox.responseShapes.envelope == .standard)
            for bad in [#"{"accountList":"list"}"#, #"{"preset":"odd"}"#, #"{"unknownMembers":"yes"}"#, #"{"colour":"red"}"#, "[1]"] {
                #expect(try await admin(live, .post, "/__sandbox/shapes", bad).status == 400, "\(bad)")
            }
            let preset = try await admin(live, .post, "/__sandbox/shapes", #"{"preset":"alternative","envelope":"standard"}"#)
            #expect(preset.json["accountList"] as? String == "array" && preset.json["envelope"] as? String == "standard")
            // Reset goes back to the seed's data, not to the standard shapes.
            _ = try await admin(live, .post, "/__sandbox/reset")
            #expect(live.sandbox.responseShapes.accountList == .array)
        }
    }

    @Test(arguments: [("array", ""), ("items", "next_cursor"), ("data", "cursor"), ("paginated", "nextCursor")])
    func theAccountListTakesEachShape(list: String, cursor: String) async throws {
        try await withSandbox { (live) async throws in
            _ = try await admin(live, .post, "/__sandbox/shapes", #"{"accountList":"\#(list)"}"#)
            let reply = try await live.get("/v1/partnership/accounts?limit=2")
            #expect(reply.status == 200)
            #expect(reply.requestId != nil)
            switch list {
            case "array":
                #expect((reply.json["data"] as? [[String: Any]])?.count == 2)
            default:
                let key = list == "paginated" ? "accounts" : list
                #expect((reply.data?[key] as? [[String: Any]])?.count == 2)
                #expect(reply.data?[cursor] as? String != nil)
            }
        }
    }

    @Test func bareSnakeCaseStringNumbersAndUnknownMembers() async throws {
        try await withSandbox { (live) async throws in
            _ = try await admin(live, .post, "/__sandbox/shapes", #"{"envelope":"bare","memberNames":"snake_case","numbersAsStrings":true,"unknownMembers":true}"#)
            let put = try await live.write(.put, live.controlsPath(), controlsJSON(verticals: [(1500, 1610)]))
            #expect(put.status == 200)
            let reply = try await live.get(live.controlsPath())
            let body = try #require(any(reply) as? [String: Any])
            #expect(body["request_id"] == nil && body["data"] == nil)  // bare
            #expect(reply.headers["X-Request-Id"] != nil)
            #expect(body["content_hash"] is String && body["x_unknown"] != nil)
            let vertical = try #require((body["blocked_verticals"] as? [[String: Any]])?.first)
            #expect(vertical["partner_vertical_id"] as? String == "1500")
            // Refusals keep the envelope.
            let refused = try await live.get("/v1/partnership/accounts/nobody/status")
            #expect(refused.status == 403 && refused.requestId != nil)
        }
    }

    @Test func idsAsNumbersGiveRegisteredAccountsDigitIds() async throws {
        try await withSandbox { (live) async throws in
            _ = try await admin(live, .post, "/__sandbox/shapes", #"{"idsAsNumbers":true,"envelope":"header_request_id"}"#)
            let reply = try await live.write(.post, "/v1/accounts/register/partnership", #"{"external_account_id":"num-1","name":"Num"}"#)
            #expect(reply.status == 201)
            #expect(reply.requestId == nil && reply.headers["X-Request-Id"] != nil)
            let id = try #require(reply.data?["accountId"] as? Int)
            let status = try await live.get("/v1/partnership/accounts/\(id)/status")
            #expect(status.status == 200)
        }
    }

    @Test func theConfigurationSetsTheShapesAtStart() async throws {
        try await withSandbox({ $0.responseShapes = .alternative }) { (live) async throws in
            let reply = try await live.get("/v1/partnership/accounts")
            #expect(any(reply) is [Any])  // bare array
            #expect(try await admin(live, .get, "/__sandbox/shapes").json["memberNames"] as? String == "snake_case")
        }
    }

    @Test func theExecutableTakesShapes() async throws {
        let process = try SandboxProcess(["--port", "0", "--shapes", #"{"accountList":"items"}"#])
        let url = try await process.waitForLine(startingWith: "rokt-sandbox listening on ")
        let client = HTTPClient()
        defer { client.shutdown() }
        let reply = try await client.get(url + "/v1/partnership/accounts", headers: ["Authorization": "Bearer sandbox-token"])
        let body = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
        #expect((body?["data"] as? [String: Any])?["items"] is [Any])
        process.signal(SIGTERM)
        #expect(await process.waitForExit() == 0)
        let bad = try SandboxProcess(["--shapes", "sideways"])
        #expect(await bad.waitForExit() == 2)
        #expect(bad.text.contains("sideways"))
    }

    @Test func shapesFromTheCommandLine() throws {
        #expect(try SandboxResponseShapes(argument: "standard") == .standard)
        #expect(try SandboxResponseShapes(argument: "alternative") == .alternative)
        #expect(try SandboxResponseShapes(argument: #"{"accountList":"data"}"#).accountList == .data)
        #expect(throws: SandboxError.self) { try SandboxResponseShapes(argument: "sideways") }
    }
}
