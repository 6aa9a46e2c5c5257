import Foundation
import Synchronization

/// One throwaway PostgreSQL cluster per test process, started on first use by
/// `scripts/postgres-cluster.sh` (SCRAM auth, 127.0.0.1, a free port, fsync on) and stopped,
/// its directory removed, when the process exits.
public struct TemporaryCluster: Sendable {
    /// `postgres://gateway:<password>@127.0.0.1:<port>/gateway`.
    public let url: String
    public let directory: String

    /// The cluster, started by the first caller; later callers wait for the same start.
    public static func shared() async throws -> TemporaryCluster {
        let task = starting.withLock { task in
            if let task { return task }
            let started = Task { try await start() }
            task = started
            return started
        }
        return try await task.value
    }

    /// A PostgreSQL client binary (`psql`, …) of the installed version.
    public static func binary(_ name: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let candidates = versions.sorted { $0.compare($1, options: .numeric) == .orderedDescending }.map { "/usr/lib/postgresql/\($0)/bin/\(name)" }
        guard let path = (candidates + ["/usr/bin/\(name)"]).first(where: FileManager.default.isExecutableFile) else {
            throw ChildProcessError(description: "\(name) not found: install PostgreSQL (scripts/postgres-cluster.sh does)")
        }
        return path
    }

    private static let starting = Mutex<Task<TemporaryCluster, any Error>?>(nil)
    /// Read by the exit handler, which cannot capture anything.
    private static let startedDirectory = Mutex<String?>(nil)

    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-cluster.sh").path

    private static func start() async throws -> TemporaryCluster {
        // Under /tmp: its parents must be searchable by the unprivileged account the cluster runs as.
        let directory = "/tmp/gateway-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let process = try ChildProcess(executable: "/bin/bash", arguments: [script, "start", directory])
        let status = await process.waitForExit(timeout: 120)
        guard status == 0, let url = process.text.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw ChildProcessError(description: "postgres-cluster.sh start failed (\(status.map(String.init) ?? "timed out")):\n\(process.text)")
        }
        startedDirectory.withLock { $0 = directory }
        atexit { TemporaryCluster.stopAtExit() }
        return TemporaryCluster(url: url, directory: directory)
    }

    private static func stopAtExit() {
        guard let directory = startedDirectory.withLock({ $0 }) else { return }
        _ = try? ChildProcess(executable: "/bin/bash", arguments: [script, "stop", directory]).waitUntilExit()
    }
}
