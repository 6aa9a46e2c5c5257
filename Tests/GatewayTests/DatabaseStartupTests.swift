import Foundation
import Store
import Testing
@testable import Gateway

/// The executable refuses databases it cannot use, clearly and with a non-zero exit.
@Suite struct DatabaseStartupTests {
    static func environment(database: String) -> [String: String] {
        [
            "PORT": "0", "DATABASE_PATH": database, "ROKT_API_TOKEN": "t", "ROKT_PARENT_ACCOUNT_ID": "p",
            "ROKT_BASE_URL": "http://127.0.0.1:9", "LOG_FORMAT": "text",
        ]
    }

    @Test func unusablePathFailsWithAClearMessage() async throws {
        let gateway = try GatewayProcess(environment: Self.environment(database: "/proc/no-such-dir/gateway.sqlite3"))
        let status = await gateway.waitForExit()
        #expect(status != nil && status != 0)
        #expect(gateway.text.contains("/proc/no-such-dir"))
    }

    @Test func newerSchemaIsRefusedAndLeftUntouched() async throws {
        let directory = NSTemporaryDirectory() + "gateway-schema-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/gateway.sqlite3"
        let migrate = try GatewayProcess(arguments: ["migrate"], environment: Self.environment(database: path))
        #expect(await migrate.waitForExit() == 0)
        #expect(migrate.text.contains("schema version \(Schema.migrations.count)"))
        try SQLiteConnection(path: path).execute("PRAGMA user_version = 99")
        let gateway = try GatewayProcess(environment: Self.environment(database: path))
        let status = await gateway.waitForExit()
        #expect(status != nil && status != 0)
        #expect(gateway.text.contains("version 99"))
        #expect(try SQLiteConnection(path: path).queryOne("PRAGMA user_version")?.get(0, as: Int.self) == 99)
    }
}
