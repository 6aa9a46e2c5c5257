import ChildProcess
import Foundation
import HTTP
import Testing

/// The container image ships one binary under two names (deploy/Containerfile): `rokt-gateway`
/// started through a link named `rokt-sandbox` is the sandbox, options and all.
@Suite struct SandboxLinkTests {
    @Test func theGatewayBinaryStartedAsRoktSandboxServesTheSandboxAndStopsOnSigterm() async throws {
        let directory = NSTemporaryDirectory() + "sandbox-link-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let link = directory + "/rokt-sandbox"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: GatewayProcess.executable.path)

        let sandbox = try ChildProcess(executable: link, arguments: ["--port", "0", "--seed", "empty"])
        let url = try await sandbox.waitForLine(startingWith: "rokt-sandbox listening on ", timeout: 20)
        let client = HTTPClient()
        defer { client.shutdown() }
        // The empty seed, as asked: the sandbox's admin route finds no demo merchant.
        #expect(try await client.get("\(url)/__sandbox/accounts/demo-merchant-1").status.code == 404)
        sandbox.signal(SIGTERM)
        #expect(await sandbox.waitForExit(timeout: 20) == 0)
        #expect(sandbox.text.contains("rokt-sandbox shutting down"))

        let refused = try ChildProcess(executable: link, arguments: ["--no-such-option"])
        #expect(await refused.waitForExit(timeout: 20) == 2)
        #expect(refused.text.contains("usage: rokt-sandbox"))
    }
}
