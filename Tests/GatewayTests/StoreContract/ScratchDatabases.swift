import ChildProcess
import Postgres
import Synchronization
@testable import Gateway

/// Fresh databases on the test process's PostgreSQL cluster (`TemporaryCluster`), one per store
/// the contract opens. At most `slots` exist at once: each creation writes a copy of the template
/// through the WAL, and every store holds a pool and a listening session (the cluster takes 300
/// connections, scripts/postgres-cluster.sh). More when every end-to-end test runs on PostgreSQL
/// (scripts/test-postgres.sh): each gateway holds its database for its whole test.
enum ScratchDatabases {
    static let slots = ScratchSlots(TestStore.fromEnvironment == .postgres ? 24 : 8)

    /// A new empty database; answers its URL.
    static func create() async throws -> String {
        await slots.acquire()
        do {
            let cluster = try await TemporaryCluster.shared().url
            let name = "store_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            try await withAdministration(cluster) { try await $0.simpleQuery("CREATE DATABASE \(name)") }
            return try url(cluster, database: name)
        } catch {
            slots.release()
            throw error
        }
    }

    static func open(_ url: String, poolSize: Int = 3) async throws -> PostgresGatewayStore {
        var options = PostgresPoolOptions()
        options.maximumConnections = poolSize
        return try await PostgresGatewayStore.open(configuration: try configuration(url), poolOptions: options)
    }

    static func drop(_ url: String) async {
        if let cluster = try? await TemporaryCluster.shared().url, let name = url.split(separator: "/").last {
            try? await withAdministration(cluster) { try await $0.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
        slots.release()
    }

    static func configuration(_ url: String) throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(connectionString: url)
        configuration.sslMode = .disable
        return configuration
    }

    /// `url` naming `database` instead of the cluster's own.
    private static func url(_ cluster: String, database: String) throws -> String {
        guard let slash = cluster.lastIndex(of: "/") else { throw ChildProcessError(description: "no database in \(cluster)") }
        return cluster[..<slash] + "/" + database
    }

    private static func withAdministration(_ cluster: String, _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(try configuration(cluster))
        do {
            try await body(connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}

/// A counting semaphore for async tests.
final class ScratchSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(free: count)) }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
