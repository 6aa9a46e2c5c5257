import Foundation
import Postgres
import Testing

@testable import Gateway

/// DATABASE_URL selects PostgreSQL (its password also from DATABASE_PASSWORD[_FILE]); without
/// it the store is the SQLite file at DATABASE_PATH. Errors never show the password.
@Suite struct DatabaseConfigurationTests {
    @Test func withoutDatabaseURLTheStoreIsSQLite() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(["DATABASE_PATH": "/data/x.sqlite3"])
        #expect(configuration.postgres == nil)
        #expect(configuration.databaseDescription == "/data/x.sqlite3")
    }

    @Test func databaseURLSelectsPostgreSQLWithSaneDefaults() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "DATABASE_URL": "postgres://gw:s3cret-pw@db.internal:6432/gateway?sslmode=verify-full", "DATABASE_PATH": "/data/ignored.sqlite3",
            "DATABASE_MAX_CONNECTIONS": "24",
        ])
        let postgres = try #require(configuration.postgres)
        #expect(postgres.user == "gw" && postgres.database == "gateway" && postgres.sslMode == .verifyFull)
        #expect(postgres.password?.text == "s3cret-pw")
        #expect(postgres.applicationName == "rokt-gateway" && postgres.connectTimeout == .seconds(10))
        #expect(configuration.databaseMaxConnections == 24)
        #expect(!configuration.databaseDescription.contains("s3cret-pw") && configuration.databaseDescription.contains("db.internal"))
    }

    @Test func thePasswordMayComeFromAFile() throws {
        let path = NSTemporaryDirectory() + "database-password-\(UUID().uuidString)"
        try "from-the-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try GatewayConfiguration.fromEnvironment([
            "DATABASE_URL": "host=/run/postgresql user=gw dbname=gateway application_name=mine connect_timeout=3", "DATABASE_PASSWORD_FILE": path,
        ])
        #expect(configuration.postgres?.password?.text == "from-the-file")
        #expect(configuration.postgres?.applicationName == "mine" && configuration.postgres?.connectTimeout == .seconds(3))
    }

    @Test func refusalsNameTheVariableAndNeverThePassword() {
        func refusal(_ environment: [String: String]) -> ConfigurationError? {
            do { _ = try GatewayConfiguration.fromEnvironment(environment) } catch { return error }
            return nil
        }
        let twice = refusal(["DATABASE_URL": "postgres://gw:hunter2-pw@db/gateway", "DATABASE_PASSWORD": "other-pw"])
        #expect(twice?.variable == "DATABASE_URL")
        #expect(twice.map { !"\($0)".contains("hunter2-pw") && !"\($0)".contains("other-pw") } == true)
        let badPort = refusal(["DATABASE_URL": "postgres://gw:hunter2-pw@db:99999/gateway"])
        #expect(badPort?.variable == "DATABASE_URL" && badPort.map { !"\($0)".contains("hunter2-pw") } == true)
        #expect(refusal(["DATABASE_URL": "postgres://db/gateway"])?.variable == "DATABASE_URL")  // no user
        #expect(refusal(["DATABASE_PASSWORD": "pw"])?.variable == "DATABASE_PASSWORD")
        #expect(refusal(["DATABASE_URL": "postgres://gw@db/gateway", "DATABASE_MAX_CONNECTIONS": "0"])?.variable == "DATABASE_MAX_CONNECTIONS")
    }
}
