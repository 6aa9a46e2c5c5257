import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct AuthAndEnvelopeTests {
    @Test func successIsWrappedInTheEnvelopeWithAUniqueRequestIdEchoedInTheHeader() async throws {
        try await withSandbox { (live) async throws in
            var ids: Set<String> = []
            for _ in 0..<3 {
                let reply = try await live.get(live.statusPath())
                #expect(reply.status == 200)
                #expect(reply.json["status"] as? Int == 200)
                #expect(reply.json.keys.contains("error") && reply.json["error"] is NSNull)
                #expect(reply.message == "ok")
                #expect(reply.headers["X-Request-Id"] == reply.requestId)
                #expect(reply.headers["Content-Type"] == "application/json")
                ids.insert(reply.requestId ?? "")
            }
            #expect(ids.count == 3)
        }
    }

    @Test func errorsUseTheEnvelopeWithStatusCodeMessageAndNullData() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.get(live.statusPath(), auth: [:])
            #expect(reply.status == 401)
            #expect(reply.json["status"] as? Int == 401)
            #expect(reply.error == "unauthorized")
            #expect(!reply.message.isEmpty)
            #expect(reply.json["data"] is NSNull)
            #expect(reply.headers["X-Request-Id"] == reply.requestId)
            #expect(reply.headers["WWW-Authenticate"]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func unknownTokenOrSchemeIs401() async throws {
        try await withSandbox { (live) async throws in
            #expect(try await live.get(live.statusPath(), auth: ["Authorization": "Bearer nope"]).status == 401)
            #expect(try await live.get(live.statusPath(), auth: ["Authorization": "Basic c2FuZGJveC10b2tlbg=="]).status == 401)
            #expect(try await live.get(live.statusPath(), auth: ["Authorization": "Bearer "]).status == 401)
        }
    }

    @Test func parentHeaderThatIsNotTheTokensManagerIs403() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.get(
                live.statusPath(), auth: ["Authorization": "Bearer \(SandboxDemo.token)", "X-Platform-Parent-Account-Id": "other-parent"])
            #expect(reply.status == 403)
            #expect(reply.error == "forbidden")
            #expect(reply.message.contains("X-Platform-Parent-Account-Id"))
        }
    }

    @Test func missingParentHeaderFallsBackToTheTokensManager() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.get(live.controlsPath(), auth: ["Authorization": "Bearer \(SandboxDemo.token)"])
            #expect(reply.status == 200)
        }
    }

    @Test func accountOfAnotherManagerIs403ForReadsAndWritesAndNothingChanges() async throws {
        try await withSandbox { (live) async throws in
            let other = SandboxDemo.otherMerchant
            #expect(try await live.get(live.controlsPath(other)).status == 403)
            #expect(try await live.get(live.statusPath(other)).status == 403)
            let before = live.sandbox.status(of: other)
            let write = try await live.write(.put, live.statusPath(other), #"{"status":"paused"}"#)
            #expect(write.status == 403)
            #expect(write.message.contains(other))
            #expect(live.sandbox.status(of: other) == before)
            // …and the other manager reaches its own merchant but not ours.
            #expect(try await live.get(live.statusPath(other), auth: LiveSandbox.otherAuth).status == 200)
            #expect(try await live.get(live.statusPath(), auth: LiveSandbox.otherAuth).status == 403)
        }
    }

    @Test func unknownAccountIs403NotA404() async throws {
        try await withSandbox { (live) async throws in
            #expect(try await live.get(live.controlsPath("no-such-merchant")).status == 403)
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405InTheEnvelope() async throws {
        try await withSandbox { (live) async throws in
            let missing = try await live.get("/v1/partnership/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.error == "not_found")
            let wrong = try await live.send(.delete, live.statusPath())
            #expect(wrong.status == 405)
            #expect(wrong.error == "method_not_allowed")
            #expect(wrong.headers["Allow"]?.contains("PUT") == true)
        }
    }

    @Test func startingTwiceThrowsAndARestartAfterShutdownServesTheSameState() async throws {
        let sandbox = RoktSandbox(configuration: .init(seed: .demo, clock: ManualSandboxClock()))
        try sandbox.start(group: .shared)
        #expect(throws: RoktSandbox.AlreadyStarted.self) { try sandbox.start(group: .shared) }
        #expect(sandbox.baseURL.hasPrefix("http://127.0.0.1:"))
        await sandbox.shutdown()
        #expect(sandbox.baseURL.isEmpty)
        try sandbox.start(group: .shared)
        let client = HTTPClient()
        defer { client.shutdown() }
        let reply = try await client.get(
            sandbox.baseURL + "/v1/partnership/accounts/demo-merchant-1/status",
            headers: ["Authorization": "Bearer sandbox-token"])
        #expect(reply.status.code == 200)
        await sandbox.shutdown()
    }

    @Test func serverWithoutSocketsAnswersThroughTheHandler() async throws {
        let sandbox = RoktSandbox(configuration: .init(seed: .demo, clock: ManualSandboxClock()))
        let request = HTTPRequest(
            method: .get, target: "/v1/partnership/accounts/demo-merchant-2/marketplacecontrolslists",
            headers: ["Authorization": "Bearer sandbox-token"])
        let response = try await sandbox.handler(request)
        #expect(response.status.code == 200)
        #expect(String(decoding: response.bodyBytes, as: UTF8.self).contains("competitor.example.com"))
    }
}
