import Foundation
import HTTP
import JSON
import RoktSandbox
import Store
import Testing
@testable import Gateway

/// The operator commands of the real executable: `--version`, `backup`, `check-config`.
@Suite struct OperatorCommandsTests {
    /// Runs the executable to its exit; answers the status and everything it printed.
    static func run(_ arguments: [String], _ environment: [String: String]) async throws -> (status: Int32?, text: String) {
        let process = try GatewayProcess(arguments: arguments, environment: environment)
        let status = await process.waitForExit()
        return (status, process.text)
    }

    @Test(arguments: ["--version", "version"]) func versionPrintsGatewaySwiftOpenSSLAndSQLiteOneLineEach(_ argument: String) async throws {
        let (status, text) = try await Self.run([argument], [:])
        #expect(status == 0)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.first == "rokt-gateway \(GatewayVersion.string)")
        #expect(lines.contains { $0.hasPrefix("swift 6.") })
        #expect(lines.contains { $0.hasPrefix("openssl OpenSSL 3.") })
        #expect(lines.contains { $0.wholeMatch(of: /sqlite 3\.\d+\.\d+/) != nil }, "\(lines)")
    }

    /// A copy taken while a gateway serves the file (WAL) holds the operation just accepted,
    /// is private, and a second backup to the same path is refused.
    @Test func backupOfAServingGatewayHoldsTheAcceptedOperation() async throws {
        let bed = try ProcessTestBed("backup")
        let gateway = try GatewayProcess(environment: bed.environment)
        let port = try await gateway.waitForField("listening", "port")
        let accepted = try await bed.client.execute(
            HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals",
                headers: ProcessTestBed.headers(json: true), body: Array(#"{"partnerVerticalId":1555,"partnerSubVerticalId":1655}"#.utf8)))
        let operationId = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(accepted.body))["id"]?.stringValue)

        let copy = bed.directory + "/backup.sqlite3"
        let (status, text) = try await Self.run(["backup", copy], bed.environment)
        #expect(status == 0, "\(text)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let again = try await Self.run(["backup", copy], bed.environment)
        #expect(again.status == 1)
        #expect(again.text.contains("already exists"))
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)

        let restored = try GatewayStorage.open(path: copy, exclusive: false)
        let operation = try await restored.operation(operationId)
        await restored.close()
        #expect(operation?.id == operationId)
    }

    /// Every refused variable is named, not only the first, and nothing else is looked at.
    @Test func checkConfigNamesEveryRefusedVariableAndExitsTwo() async throws {
        let bed = try ProcessTestBed("check-config-variables")
        var environment = bed.environment
        environment["PORT"] = "eighty"
        environment["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "maybe"
        environment["ROKT_API_TOKEN"] = ""
        let (status, text) = try await Self.run(["check-config"], environment)
        #expect(status == 2)
        #expect(text.contains("PORT must be a port number"), "\(text)")
        #expect(text.contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false"), "\(text)")
        #expect(text.contains("ROKT_API_TOKEN is required"), "\(text)")
        #expect(!text.contains("database"))
    }

    @Test func checkConfigReportsASchemaBehindWithoutMigratingIt() async throws {
        let bed = try ProcessTestBed("check-config-schema")
        let fresh = try await Self.run(["check-config"], bed.environment)
        #expect(fresh.status == 0, "\(fresh.text)")
        #expect(fresh.text.contains("not created yet"))
        #expect(try await Self.run(["migrate"], bed.environment).status == 0)
        let current = try await Self.run(["check-config"], bed.environment)
        #expect(current.status == 0, "\(current.text)")
        #expect(current.text.contains("as expected"))

        let path = try #require(bed.environment["DATABASE_PATH"])
        let expected = try Migrator(Schema.migrations).knownVersion
        try SQLiteConnection(path: path, mode: .readWrite).execute("PRAGMA user_version = \(expected - 1)")
        let behind = try await Self.run(["check-config"], bed.environment)
        #expect(behind.status == 1)
        #expect(behind.text.contains("schema version \(expected - 1), expected \(expected); behind"))
        let reread = try SQLiteConnection(path: path, mode: .readOnly)
        #expect(try Migrator.schemaVersion(of: reread) == expected - 1, "check-config migrated the database")
    }

    @Test func probeUpstreamReadsTheAccountListAndNeverPrintsTheToken() async throws {
        let bed = try ProcessTestBed("check-config-probe")
        let ok = try await Self.run(["check-config", "--probe-upstream"], bed.environment)
        #expect(ok.status == 0, "\(ok.text)")
        #expect(ok.text.contains("upstream \(bed.sandbox.baseURL): ok"))
        #expect(bed.sandbox.requestLog.contains { $0.method == "GET" && $0.path.hasSuffix("/accounts") }, "\(bed.sandbox.requestLog)")
        #expect(!ok.text.contains(SandboxDemo.token))

        var environment = bed.environment
        environment["ROKT_API_TOKEN"] = "wrong-token-that-must-not-be-printed"
        let refused = try await Self.run(["check-config", "--probe-upstream"], environment)
        #expect(refused.status == 1)
        #expect(refused.text.contains("upstream \(bed.sandbox.baseURL): failed"))
        #expect(!refused.text.contains("wrong-token-that-must-not-be-printed"))
    }
}
