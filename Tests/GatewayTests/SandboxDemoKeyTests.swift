import Foundation
import HTTP
import Store
import Testing
@testable import Gateway

/// The sandbox's demo key is public (README prints it): it must work in `serve --sandbox` and
/// nowhere else, whatever a database holds; and the sandbox gateway listens on loopback only
/// unless told otherwise. Run with the real executable.
@Suite struct SandboxDemoKeyTests {
    static let demoKey = "rgw_sandbox_demo_key"

    final class Scratch: Sendable {
        let directory = NSTemporaryDirectory() + "gateway-demo-key-\(UUID().uuidString)"
        var database: String { directory + "/g.sqlite3" }
        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Starts `serve --sandbox` (plus `options`) and answers the base URL it prints.
    static func sandbox(_ scratch: Scratch, _ options: [String] = [], environment: [String: String] = [:]) async throws -> (GatewayProcess, String) {
        var env = ["PORT": "0", "DATABASE_PATH": scratch.database, "LOG_FORMAT": "text"]
        env.merge(environment) { _, new in new }
        let gateway = try GatewayProcess(arguments: ["serve", "--sandbox"] + options, environment: env)
        let address = try await gateway.waitForLine(startingWith: "Gateway at ")
        return (gateway, String(address.split(separator: " ").first ?? ""))
    }

    /// A plain `serve` on the same database, pointed at a closed Rokt port (nothing here reaches Rokt).
    static func plain(_ scratch: Scratch, bootstrap: String? = nil) throws -> GatewayProcess {
        var env = [
            "PORT": "0", "ROKT_API_TOKEN": "t", "ROKT_PARENT_ACCOUNT_ID": "p", "ROKT_BASE_URL": "http://127.0.0.1:9",
            "DATABASE_PATH": scratch.database, "LOG_FORMAT": "text",
        ]
        if let bootstrap { env["GATEWAY_BOOTSTRAP_API_KEY"] = bootstrap }
        return try GatewayProcess(environment: env)
    }

    static func status(_ client: HTTPClient, _ url: String, key: String) async throws -> Int {
        try await client.execute(HTTPClientRequest(method: .get, url: url + "/v1/operations", headers: ["Authorization": "Bearer \(key)"])).status.code
    }

    @Test func theDemoKeyWorksInSandboxModeAndNeverReachesTheDatabase() async throws {
        let scratch = Scratch()
        let client = HTTPClient()
        defer { client.shutdown() }
        let (sandbox, base) = try await Self.sandbox(scratch)
        #expect(try await Self.status(client, base, key: Self.demoKey) == 200)
        sandbox.signal(SIGTERM)
        #expect(await sandbox.waitForExit() == 0)
        let stored = try SQLiteConnection(path: scratch.database, mode: .readOnly)
            .query("SELECT key_hash FROM api_keys").map { try $0.get(0, as: String.self) }
        #expect(!stored.contains(ApiKeyMaterial.hash(Self.demoKey)))

        let gateway = try Self.plain(scratch)
        let port = try await gateway.waitForField("listening", "port")
        #expect(try await Self.status(client, "http://127.0.0.1:\(port)", key: Self.demoKey) == 401)
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
    }

    /// A database an earlier version's sandbox run left the demo key in: a plain serve ignores it.
    @Test func aStoredDemoKeyIsNotHonoured() async throws {
        let scratch = Scratch()
        let client = HTTPClient()
        defer { client.shutdown() }
        let first = try Self.plain(scratch)
        _ = try await first.waitForField("listening", "port")
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0)
        let connection = try SQLiteConnection(path: scratch.database)
        try connection.run(
            """
            INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES ('key_old_demo', 'bootstrap', ?, 'admin,read,webhooks,write', 0)
            """, [ApiKeyMaterial.hash(Self.demoKey)])
        try connection.execute("UPDATE meta SET value = value + 1 WHERE name = 'keys_version'")

        let gateway = try Self.plain(scratch)
        let port = try await gateway.waitForField("listening", "port")
        #expect(try await Self.status(client, "http://127.0.0.1:\(port)", key: Self.demoKey) == 401)
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
    }

    @Test func aPlainServeRefusesTheDemoKeyAsItsBootstrapKey() async throws {
        let scratch = Scratch()
        let gateway = try Self.plain(scratch, bootstrap: Self.demoKey)
        let status = await gateway.waitForExit()
        #expect(status != 0 && status != nil)
        #expect(gateway.text.contains("GATEWAY_BOOTSTRAP_API_KEY"))
        #expect(!FileManager.default.fileExists(atPath: scratch.database))
    }

    /// The addresses a process listens on for `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes them).
    static func listeningAddresses(port: Int) -> Set<String> {
        let hexPort = String(format: "%04X", port)
        var addresses = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // procfs files report size 0: read to the end rather than by size.
            let text = String(decoding: FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A" else { continue }  // LISTEN
                let local = fields[1].split(separator: ":")
                if local.count == 2, local[1] == hexPort { addresses.insert(String(local[0])) }
            }
        }
        return addresses
    }

    @Test func sandboxModeListensOnLoopbackUnlessToldOtherwise() async throws {
        let scratch = Scratch()
        let (loopback, base) = try await Self.sandbox(scratch)
        #expect(base.hasPrefix("http://127.0.0.1:"))
        let port = try #require(base.split(separator: ":").last.flatMap { Int($0) })
        let addresses = Self.listeningAddresses(port: port)
        #expect(addresses == ["0100007F"], "\(addresses) \(port)")  // 127.0.0.1
        loopback.signal(SIGTERM)
        #expect(await loopback.waitForExit() == 0)

        let (everywhere, wideBase) = try await Self.sandbox(scratch, ["--host", "0.0.0.0"])
        let widePort = try #require(wideBase.split(separator: ":").last.flatMap { Int($0) })
        #expect(Self.listeningAddresses(port: widePort) == ["00000000"])
        everywhere.signal(SIGTERM)
        #expect(await everywhere.waitForExit() == 0)
    }

    @Test func aHostOptionWithoutAnAddressIsAUsageError() async throws {
        let gateway = try GatewayProcess(arguments: ["serve", "--sandbox", "--host"], environment: ["PORT": "0"])
        #expect(await gateway.waitForExit() == 2)
        #expect(gateway.text.contains("--host needs an address"))
    }
}
