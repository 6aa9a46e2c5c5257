import Foundation
import HTTP
import JSON
import Postgres
import RoktSandbox
import Testing
@testable import Gateway

/// The real executable on `DATABASE_URL`, its password in `DATABASE_PASSWORD_FILE`: the operator
/// commands work on PostgreSQL, a gateway serves from it, and the password is never printed.
@Suite(.serialized) struct PostgresOperatorCommandsTests {
    /// The bed's environment with a fresh database instead of the SQLite file.
    static func environment(_ bed: ProcessTestBed, url: String) throws -> (environment: [String: String], password: String) {
        let configuration = try PostgresConfiguration(connectionString: url)
        let password = try #require(configuration.password?.text)
        let file = bed.directory + "/database-password"
        try FileManager.default.createDirectory(atPath: bed.directory, withIntermediateDirectories: true)
        try "\(password)\n".write(toFile: file, atomically: true, encoding: .utf8)
        var environment = bed.environment
        environment["DATABASE_PATH"] = nil
        environment["DATABASE_URL"] = url.replacing(":\(password)@", with: "@")
        environment["DATABASE_PASSWORD_FILE"] = file
        return (environment, password)
    }

    @Test func checkConfigMigrateKeysAndServeWorkOnDatabaseURL() async throws {
        let bed = try ProcessTestBed("postgres-commands")
        let url = try await ScratchDatabases.create()
        do {
            let (environment, password) = try Self.environment(bed, url: url)
            let fresh = try await OperatorCommandsTests.run(["check-config"], environment)
            #expect(fresh.status == 0 && fresh.text.contains("not created yet"), "\(fresh.text)")
            let migrated = try await OperatorCommandsTests.run(["migrate"], environment)
            #expect(migrated.status == 0 && migrated.text.contains("schema version \(PostgresSchema.latestVersion)"), "\(migrated.text)")
            let current = try await OperatorCommandsTests.run(["check-config"], environment)
            #expect(current.status == 0 && current.text.contains("as expected"), "\(current.text)")
            let backup = try await OperatorCommandsTests.run(["backup", bed.directory + "/copy"], environment)
            #expect(backup.status != 0 && backup.text.contains("pg_dump"), "\(backup.text)")
            let created = try await OperatorCommandsTests.run(["keys", "create", "--name", "reader", "--scope", "read"], environment)
            let secret = try #require(created.text.split(separator: "\n").last.map(String.init))
            #expect(created.status == 0 && secret.hasPrefix("rgw_"), "\(created.text)")

            let gateway = try GatewayProcess(environment: environment)
            let port = try await gateway.waitForField("listening", "port")
            let read = try await bed.client.execute(
                HTTPClientRequest(method: .get, url: "http://127.0.0.1:\(port)/v1/merchants/\(SandboxDemo.merchant1)/controls", headers: ["Authorization": "Bearer \(secret)"]))
            #expect(read.status.code == 200)
            gateway.signal(SIGTERM)
            #expect(await gateway.waitForExit() == 0)
            for text in [fresh.text, migrated.text, current.text, backup.text, created.text, gateway.text] {
                #expect(!text.contains(password))
            }
        } catch {
            await ScratchDatabases.drop(url)
            throw error
        }
        await ScratchDatabases.drop(url)
    }
}
