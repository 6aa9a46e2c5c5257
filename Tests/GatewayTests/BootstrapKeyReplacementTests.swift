import Foundation
import HTTP
import Store
import Testing
@testable import Gateway

/// GATEWAY_BOOTSTRAP_API_KEY across real restarts of the executable on one SQLite file: a new
/// value replaces the previous bootstrap key, the same value changes nothing, no value leaves it.
@Suite struct BootstrapKeyReplacementTests {
    static let first = ProcessTestBed.adminKey
    static let second = "rgw_second-bootstrap-key-0123456789abcdefghij"

    /// Starts a gateway with `environment`, answers the status each key gets from an admin read, stops it.
    static func statuses(_ bed: ProcessTestBed, _ environment: [String: String], keys: [String]) async throws -> [Int] {
        let gateway = try GatewayProcess(environment: environment)
        let port = try await gateway.waitForField("listening", "port")
        var statuses: [Int] = []
        for key in keys {
            let response = try await bed.client.execute(
                HTTPClientRequest(method: .get, url: "http://127.0.0.1:\(port)/v1/operations", headers: ["Authorization": "Bearer \(key)"]))
            statuses.append(response.status.code)
        }
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0, "\(gateway.text)")
        return statuses
    }

    /// The stored bootstrap keys (`name = 'bootstrap'`), oldest first, as (hash, active).
    static func bootstrapRows(_ bed: ProcessTestBed) throws -> [(hash: String, active: Bool)] {
        try SQLiteConnection(path: bed.directory + "/gateway.sqlite3", mode: .readOnly)
            .query("SELECT key_hash, revoked_at IS NULL AS active FROM api_keys WHERE name = 'bootstrap' ORDER BY created_at, id")
            .map { (try $0.get("key_hash"), try $0.get("active", as: Int64.self) == 1) }
    }

    @Test func aChangedBootstrapKeyReplacesThePreviousOneAcrossRestarts() async throws {
        let bed = try ProcessTestBed("bootstrap-replacement")
        #expect(try await Self.statuses(bed, bed.environment, keys: [Self.first]) == [200])
        let created = try GatewayProcess(arguments: ["keys", "create", "--name", "ops", "--scope", "admin"], environment: bed.environment)
        #expect(await created.waitForExit() == 0)
        let ops = try #require(created.text.split(separator: "\n").last.map(String.init))

        // The new value from a file, as a mounted secret (with its trailing newline).
        let file = bed.directory + "/bootstrap-key"
        FileManager.default.createFile(atPath: file, contents: Data((Self.second + "\n").utf8))
        var changed = bed.environment
        changed["GATEWAY_BOOTSTRAP_API_KEY"] = nil
        changed["GATEWAY_BOOTSTRAP_API_KEY_FILE"] = file
        #expect(try await Self.statuses(bed, changed, keys: [Self.first, Self.second, ops]) == [401, 200, 200])
        // The same value again: still one bootstrap key.
        #expect(try await Self.statuses(bed, changed, keys: [Self.first, Self.second, ops]) == [401, 200, 200])
        let rows = try Self.bootstrapRows(bed)
        #expect(rows.map(\.hash) == [ApiKeyMaterial.hash(Self.first), ApiKeyMaterial.hash(Self.second)])
        #expect(rows.map(\.active) == [false, true])

        // No value: the bootstrap key stays as it is.
        var unset = bed.environment
        unset["GATEWAY_BOOTSTRAP_API_KEY"] = ""
        #expect(try await Self.statuses(bed, unset, keys: [Self.first, Self.second, ops]) == [401, 200, 200])
        #expect(try Self.bootstrapRows(bed).map(\.active) == [false, true])

        // Revoked by the operator: the same value keeps it revoked, and the gateway says so.
        let listed = try GatewayProcess(arguments: ["keys", "list"], environment: unset)
        #expect(await listed.waitForExit() == 0)
        let current = try #require(listed.text.split(separator: "\n").first { $0.contains("\tbootstrap\t") && $0.hasSuffix("\t-") })
        let revoked = try GatewayProcess(arguments: ["keys", "revoke", String(current.prefix { $0 != "\t" })], environment: unset)
        #expect(await revoked.waitForExit() == 0)
        let gateway = try GatewayProcess(environment: changed)
        _ = try await gateway.waitForField("listening", "port")
        #expect(gateway.text.contains("bootstrap key revoked"))
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        #expect(try Self.bootstrapRows(bed).map(\.active) == [false, false])
    }

    /// The material of a key made with `keys create` is refused as the bootstrap key, by name.
    @Test func anOrdinaryKeysMaterialIsRefusedAsTheBootstrapKey() async throws {
        let bed = try ProcessTestBed("bootstrap-ordinary")
        var environment = bed.environment
        environment["GATEWAY_BOOTSTRAP_API_KEY"] = nil
        let created = try GatewayProcess(arguments: ["keys", "create", "--name", "ops", "--scope", "read"], environment: environment)
        #expect(await created.waitForExit() == 0)
        let ops = try #require(created.text.split(separator: "\n").last.map(String.init))
        environment["GATEWAY_BOOTSTRAP_API_KEY"] = ops
        let gateway = try GatewayProcess(environment: environment)
        let status = await gateway.waitForExit()
        #expect(status != 0 && status != nil)
        #expect(gateway.text.contains("GATEWAY_BOOTSTRAP_API_KEY is the key key_"), "\(gateway.text)")
        #expect(!gateway.text.contains(ops))
    }

    /// A database from before the bootstrap key was marked, where each change of the variable
    /// added a key: the newest is the current one, and the next change revokes them all.
    @Test func olderBootstrapKeysAreReplacedAtTheNextChange() async throws {
        let bed = try ProcessTestBed("bootstrap-legacy")
        try FileManager.default.createDirectory(atPath: bed.directory, withIntermediateDirectories: true)
        do {
            let connection = try SQLiteConnection(path: bed.directory + "/gateway.sqlite3")
            try Migrator(Array(Schema.migrations.prefix(5))).migrate(connection)
            let legacy = [("key_1", "rgw_legacy-one"), ("key_2", Self.first), ("key_3", "rgw_legacy-manual")]
            for (index, (id, material)) in legacy.enumerated() {
                // key_3 is an operator's own key that happens to be named bootstrap: fewer scopes.
                let scopes = id == "key_3" ? "admin" : "admin,read,webhooks,write"
                try connection.run(
                    "INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES (?, 'bootstrap', ?, ?, ?)",
                    [id, ApiKeyMaterial.hash(material), scopes, Int64(index)])
            }
        }
        #expect(try await Self.statuses(bed, bed.environment, keys: ["rgw_legacy-one", Self.first, "rgw_legacy-manual"]) == [200, 200, 200])
        var changed = bed.environment
        changed["GATEWAY_BOOTSTRAP_API_KEY"] = Self.second
        #expect(try await Self.statuses(bed, changed, keys: ["rgw_legacy-one", Self.first, "rgw_legacy-manual", Self.second]) == [401, 401, 200, 200])
    }
}
