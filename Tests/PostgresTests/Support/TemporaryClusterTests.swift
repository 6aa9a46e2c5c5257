import ChildProcess
import Testing

@testable import Postgres

/// The throwaway cluster the integration tests run against: reachable with its URL, SCRAM only.
@Suite struct TemporaryClusterTests {
    func psql(_ url: String) async throws -> (status: Int32?, output: String) {
        let process = try ChildProcess(
            executable: try TemporaryCluster.binary("psql"), arguments: ["--no-psqlrc", "--tuples-only", "--no-align", "--command=SELECT 1", url],
            environment: ["PATH": "/usr/bin:/bin"])
        let status = await process.waitForExit(timeout: 30)
        return (status, process.text)
    }

    @Test func psqlRunsAQueryWithTheURL() async throws {
        let cluster = try await TemporaryCluster.shared()
        let (status, output) = try await psql(cluster.url)
        #expect(status == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test func aWrongPasswordIsRefused() async throws {
        let cluster = try await TemporaryCluster.shared()
        let configuration = try PostgresConfiguration(connectionString: cluster.url)
        let password = try #require(configuration.password?.text)
        let (status, output) = try await psql(cluster.url.replacing(":\(password)@", with: ":not-\(password)@"))
        #expect(status == 2)
        #expect(output.contains("password authentication failed for user \"gateway\""), "\(output)")
    }

    @Test func theURLParsesAsTheClientWillReadIt() async throws {
        let configuration = try PostgresConfiguration(connectionString: try await TemporaryCluster.shared().url)
        #expect(configuration.user == "gateway" && configuration.database == "gateway")
        guard case .tcp("127.0.0.1", nil, let port) = configuration.endpoints.first else {
            Issue.record("not a TCP endpoint: \(configuration.endpoints)")
            return
        }
        #expect(port > 0)
    }
}
