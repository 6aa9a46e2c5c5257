import Foundation
import HTTP
import JSON
import Rokt
import RoktSandbox
import Store
import Testing
@testable import Gateway

/// The store the end-to-end tests run on: a SQLite file, or with GATEWAY_TEST_DATABASE=postgres
/// (scripts/test-postgres.sh) a fresh database on the test cluster for each gateway.
enum TestStore: Sendable {
    case sqlite, postgres

    static let fromEnvironment: TestStore = ProcessInfo.processInfo.environment["GATEWAY_TEST_DATABASE"] == "postgres" ? .postgres : .sqlite
}

extension Trait where Self == ConditionTrait {
    /// For tests that read or write the SQLite tables under the gateway directly.
    static var readsSQLiteTables: Self { .enabled(if: TestStore.fromEnvironment == .sqlite, "reads the SQLite tables directly") }
}

/// The real gateway in-process on 127.0.0.1, against the real sandbox, on a real SQLite file
/// in a fresh temporary directory (or a fresh PostgreSQL database). Nothing of ours is mocked.
final class GatewayHarness: Sendable {
    let sandbox: RoktSandbox
    let app: GatewayApp
    let port: Int
    let adminKey: String
    let client: HTTPClient
    let directory: String
    let group: EventLoopGroup
    /// The scratch PostgreSQL database (nil: SQLite).
    let postgresURL: String?
    /// A replica started with `replicaOf:` shares the first gateway's sandbox and database, and
    /// leaves them to it at `stop`.
    let ownsSandboxAndDatabase: Bool

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var services: GatewayServices { app.services }
    var store: any GatewayStore { app.store }
    /// The SQLite database under the gateway, for tests that look at its tables (`.readsSQLiteTables`).
    var database: Database {
        get throws {
            guard let store = app.store as? SQLiteGatewayStore else { throw TestStoreMismatch() }
            return store.database
        }
    }
    struct ReplicaOfSQLite: Error, CustomStringConvertible {
        var description: String { "replicas share a PostgreSQL database: start the first gateway with store: .postgres" }
    }
    struct TestStoreMismatch: Error, CustomStringConvertible {
        var description: String { "this test reads SQLite tables; mark it .readsSQLiteTables" }
    }

    static let adminKeyMaterial = "rgw_test-admin-key-0123456789abcdefghijklmnop"

    static func start(
        syncWait: Duration = .seconds(20), engine: EngineConfiguration = .forTests, clock: any WallClock = SystemWallClock(),
        sandboxClock: (any SandboxClock)? = nil, directory: String? = nil, roktTimeout: Duration? = nil,
        logSink: (@Sendable (String) -> Void)? = nil, store: TestStore = .fromEnvironment, replicaOf first: GatewayHarness? = nil,
        tokens: (any TokenAuthenticator)? = nil, configure: (inout GatewayConfiguration) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        let group = try EventLoopGroup(loopCount: 1)
        let sandbox: RoktSandbox
        if let first {
            sandbox = first.sandbox
        } else {
            var sandboxConfiguration = RoktSandbox.Configuration(seed: .demo)
            if let sandboxClock { sandboxConfiguration.clock = sandboxClock }
            sandbox = RoktSandbox(configuration: sandboxConfiguration)
            _ = try sandbox.start(host: "127.0.0.1", port: 0, group: group)
        }
        let directory = directory ?? NSTemporaryDirectory() + "gateway-tests-\(UUID().uuidString)"
        var configuration = GatewayConfiguration()
        configuration.port = 0
        configuration.host = "127.0.0.1"
        configuration.server = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.databasePath = directory + "/gateway.sqlite3"
        configuration.roktBaseURL = sandbox.baseURL
        configuration.ecommerceBaseURL = sandbox.baseURL
        configuration.roktToken = SandboxDemo.token
        configuration.roktParentAccountId = SandboxDemo.parentAccountId
        configuration.ecommerceApiKey = SandboxDemo.ecommerceApiKey
        configuration.tagId = SandboxDemo.tagId
        configuration.bootstrapApiKey = adminKeyMaterial
        configuration.syncWait = syncWait
        if let roktTimeout { configuration.roktRequestTimeout = roktTimeout }
        // The default limits toward Rokt, but a circuit that recovers in milliseconds, like the fast retries of `.forTests`.
        configuration.upstream.breaker.openDuration = .milliseconds(200)
        var postgresURL: String?
        if let first {
            guard let shared = first.postgresURL else { throw ReplicaOfSQLite() }
            postgresURL = shared
        } else if store == .postgres {
            postgresURL = try await ScratchDatabases.create()
        }
        if let postgresURL {
            configuration.postgres = try ScratchDatabases.configuration(postgresURL)
            configuration.databaseMaxConnections = 4
        }
        configure(&configuration)
        let app = try await GatewayApp(
            configuration: configuration, group: group, clock: clock, engineConfiguration: engine,
            logger: Logger(level: logSink == nil ? .error : .debug, format: .json, sink: logSink ?? { _ in }), tokens: tokens)
        let port = try app.start()
        return GatewayHarness(
            sandbox: sandbox, app: app, port: port, adminKey: adminKeyMaterial, client: HTTPClient(group: group),
            directory: directory, group: group, postgresURL: postgresURL, ownsSandboxAndDatabase: first == nil)
    }

    private init(
        sandbox: RoktSandbox, app: GatewayApp, port: Int, adminKey: String, client: HTTPClient, directory: String, group: EventLoopGroup,
        postgresURL: String?, ownsSandboxAndDatabase: Bool
    ) {
        self.postgresURL = postgresURL
        self.ownsSandboxAndDatabase = ownsSandboxAndDatabase
        self.sandbox = sandbox
        self.app = app
        self.port = port
        self.adminKey = adminKey
        self.client = client
        self.directory = directory
        self.group = group
    }

    func stop() async {
        client.shutdown()
        await app.shutdown()
        if ownsSandboxAndDatabase { await sandbox.shutdown() }
        group.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
        if ownsSandboxAndDatabase, let postgresURL { await ScratchDatabases.drop(postgresURL) }
    }

    /// Calls the gateway; `key` nil sends no Authorization at all.
    func call(
        _ method: HTTPMethod, _ path: String, json: String? = nil, key: String? = nil, anonymous: Bool = false,
        headers: HTTPHeaders = HTTPHeaders()
    ) async throws -> TestResponse {
        var headers = headers
        if !anonymous { headers["Authorization"] = "Bearer \(key ?? adminKey)" }
        if json != nil { headers["Content-Type"] = "application/json" }
        let response = try await client.execute(
            HTTPClientRequest(
                method: method, url: baseURL + path, headers: headers,
                body: json.map { Array($0.utf8) }), timeout: .seconds(60))
        return TestResponse(status: response.status.code, headers: response.headers, body: response.body)
    }

    /// A new API key with these scopes (and merchants), through the same service the CLI uses.
    func makeKey(_ scopes: Set<Scope>, merchants: Set<String>? = nil) async throws -> String {
        let (_, secret) = try await ApiKeyService(store: store, clock: services.clock).create(name: "test", scopes: scopes, merchants: merchants)
        try await services.keyRing.refresh()
        return secret
    }

    /// A new publishable key for these origins, through the same service the CLI uses.
    func makePublishableKey(origins: Set<String>) async throws -> (id: String, material: String) {
        let (key, material) = try await ApiKeyService(store: store, clock: services.clock).createPublishable(name: "checkout", origins: origins)
        try await services.keyRing.refresh()
        return (key.id, material)
    }

    /// Upstream requests the sandbox saw, optionally filtered.
    func upstream(_ method: String? = nil, pathSuffix: String? = nil) -> [SandboxLoggedRequest] {
        sandbox.requestLog.filter { ($0.method == method || method == nil) && (pathSuffix.map($0.path.hasSuffix) ?? true) }
    }
}

func withGateway(
    syncWait: Duration = .seconds(20), engine: EngineConfiguration = .forTests, clock: any WallClock = SystemWallClock(),
    sandboxClock: (any SandboxClock)? = nil, roktTimeout: Duration? = nil, logSink: (@Sendable (String) -> Void)? = nil,
    tokens: (any TokenAuthenticator)? = nil, configure: (inout GatewayConfiguration) -> Void = { _ in },
    _ body: (GatewayHarness) async throws -> Void
) async throws {
    let harness = try await GatewayHarness.start(
        syncWait: syncWait, engine: engine, clock: clock, sandboxClock: sandboxClock,
        roktTimeout: roktTimeout, logSink: logSink, tokens: tokens, configure: configure)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}

extension EngineConfiguration {
    /// Fast retries so failure paths run in milliseconds.
    static var forTests: EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.retry = RetryPolicy(base: .milliseconds(20), cap: .milliseconds(100), maxAge: .seconds(3600))
        configuration.pollInterval = .milliseconds(10)
        configuration.maxPollInterval = .milliseconds(50)
        configuration.retryBudget.window = .seconds(1)
        return configuration
    }
}

/// A gateway answer with JSON helpers.
struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
    subscript(_ key: String) -> JSONValue? { json[key] }
}

extension JSONValue {
    var int: Int? {
        switch self {
        case .integer(let n): n
        case .number(let n): Int(n)
        default: nil
        }
    }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
}
