import ChildProcess
import Foundation
import HTTP
import Testing

/// The `rokt-sandbox` executable, run as a child process (built by `swift test` beside the tests).
@Suite struct ExecutableTests {
    @Test func servesTheDemoSeedAndExitsZeroOnSIGTERM() async throws {
        let process = try SandboxProcess(["--port", "0", "--seed", "demo"])
        let url = try await process.waitForLine(startingWith: "rokt-sandbox listening on ")
        let client = HTTPClient()
        defer { client.shutdown() }
        let reply = try await client.get(
            url + "/v1/partnership/accounts/demo-merchant-2/marketplacecontrolslists",
            headers: ["Authorization": "Bearer sandbox-token", "X-Platform-Parent-Account-Id": "demo-parent"])
        #expect(reply.status.code == 200)
        #expect(reply.bodyString.contains("competitor.example.com"))
        process.signal(SIGTERM)
        #expect(await process.waitForExit() == 0)
    }

    @Test func faultFlagsApplyAndSIGINTExitsZero() async throws {
        let process = try SandboxProcess([
            "--port", "0", "--seed", "empty", "--fail-rate", "1", "--fail-status", "429",
            "--retry-after", "5", "--fail-path", "/v1/partnership/accounts",
        ])
        let url = try await process.waitForLine(startingWith: "rokt-sandbox listening on ")
        let client = HTTPClient()
        defer { client.shutdown() }
        let auth: HTTPHeaders = ["Authorization": "Bearer sandbox-token"]
        let failed = try await client.get(url + "/v1/partnership/accounts", headers: auth)
        #expect(failed.status.code == 429)
        #expect(failed.headers["Retry-After"] == "5")
        let other = try await client.get(url + "/v1/partnership/accounts/demo-merchant-1/status", headers: auth)
        #expect(other.status.code == 403)  // the empty seed has no merchants
        process.signal(SIGINT)
        #expect(await process.waitForExit() == 0)
    }

    @Test func helpExitsZeroAndBadFlagsExitNonZeroNamingThem() async throws {
        let help = try SandboxProcess(["--help"])
        #expect(await help.waitForExit() == 0)
        #expect(help.text.contains("--latency-ms"))
        let bad = try SandboxProcess(["--seed", "bogus"])
        #expect(await bad.waitForExit() == 2)
        #expect(bad.text.contains("bogus"))
    }
}

/// A child `rokt-sandbox` with its combined output.
final class SandboxProcess: Sendable {
    private let child: ChildProcess

    init(_ arguments: [String]) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rokt-sandbox")
        child = try ChildProcess(executable: executable.path, arguments: arguments)
    }

    var text: String { child.text }

    func waitForLine(startingWith prefix: String) async throws -> String {
        try await child.waitForLine(startingWith: prefix, timeout: 10)
    }

    func signal(_ number: Int32) { child.signal(number) }

    func waitForExit() async -> Int32? { await child.waitForExit(timeout: 10) }
}
