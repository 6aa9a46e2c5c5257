import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing

@Suite struct RoktPathSafetyTests {
    @Test(arguments: ["demo-merchant-1", "A", "a.b", "...", "a..b", "x~y_z-0", String(repeating: "9", count: 128)])
    func safeIdentifiers(id: String) { #expect(RoktPath.isSafeIdentifier(id)) }

    @Test(arguments: ["", ".", "..", "a/b", "a b", "café", "a%2E", "a?b", "a#b", "a:b", String(repeating: "9", count: 129)])
    func unsafeIdentifiers(id: String) { #expect(!RoktPath.isSafeIdentifier(id)) }

    @Test func pathsWithDotOrEmptySegmentsAreUnsafe() {
        #expect(RoktPath.isSafe(path: RoktPath.controls("demo-merchant-1")))
        #expect(RoktPath.isSafe(path: RoktPath.operation("op/1")))  // encoded: one segment
        for path in [
            RoktPath.controls(".."), RoktPath.controls("."), "/v1/partnership/accounts/%2E%2E/status", "/v1/partnership/accounts/%2e/status",
            "/v1//accounts", "/v1/accounts/", "v1/accounts", RoktPath.operation(".."), "/v1/a%ZZ",
        ] {
            #expect(!RoktPath.isSafe(path: path), "\(path)")
        }
    }

    @Test func theClientRefusesToSendAnUnsafePath() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let sandbox = RoktSandbox(configuration: RoktSandbox.Configuration(seed: .demo))
        _ = try sandbox.start(host: "127.0.0.1", port: 0, group: group)
        let http = HTTPClient(group: group)
        let client = RoktClient(
            configuration: RoktConfiguration(baseURL: sandbox.baseURL, token: SandboxDemo.token, parentAccountId: SandboxDemo.parentAccountId),
            http: http, now: { 0 })
        let outcome = await client.getControls("..")
        #expect(throws: RoktError.unsafePath("")) { try outcome.result.get() }
        #expect(outcome.call.status == nil && outcome.call.error != nil)
        let put = await client.putStatus("%2E%2E", body: Array(#"{"status":"paused"}"#.utf8), idempotencyKey: "k")
        // An id holding '%' is encoded ("%252E%252E"): one harmless segment that Rokt answers for.
        #expect(put.call.status != nil)
        #expect(sandbox.requestLog.allSatisfy { !$0.path.contains("/../") && !$0.path.hasSuffix("/..") })
        #expect(sandbox.requestLog.count == 1)
        http.shutdown()
        await sandbox.shutdown()
        group.shutdown()
    }
}
