import ChildProcess
import Foundation
import HTTP
import RoktSandbox

/// The real `rokt-gateway` executable, started as a child process (built by `swift test`
/// next to the test bundle), with helpers to read its output and signal it.
final class GatewayProcess: Sendable {
    let child: ChildProcess

    static var executable: URL {
        // The test bundle lives in the products directory, beside the executables.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rokt-gateway")
    }

    /// `launcher`: a command that runs the gateway (`["/usr/bin/taskset", "-c", "0"]`), else none.
    init(arguments: [String] = ["serve"], environment: [String: String], launcher: [String] = []) throws {
        var env = ProcessInfo.processInfo.environment
        // No load balancer watches a test's gateway: SIGTERM stops it without the drain, unless a test asks.
        env["SHUTDOWN_DRAIN_SECONDS"] = "0"
        env.merge(environment) { _, new in new }
        let command = launcher + [Self.executable.path] + arguments
        child = try ChildProcess(executable: command[0], arguments: Array(command.dropFirst()), environment: env)
    }

    /// The names of the process's threads now (/proc/PID/task/*/comm).
    var threadNames: [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    var text: String { child.text }
    var isRunning: Bool { child.isRunning }
    var pid: Int32 { child.pid }

    /// Waits for a line matching `prefix` and returns the rest of that line.
    func waitForLine(startingWith prefix: String, timeout: Double = 20) async throws -> String {
        do {
            return try await child.waitForLine(startingWith: prefix, timeout: timeout)
        } catch let error as ChildProcessError {
            throw ProcessFailure(description: error.description)
        }
    }

    /// Waits for a text-format log line whose message is `message` and returns its `field=` value.
    func waitForField(_ message: String, _ field: String, timeout: Double = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.count >= 3, words[2] == message else { continue }
                if let value = words.first(where: { $0.hasPrefix(field + "=") }) { return String(value.dropFirst(field.count + 1)) }
            }
            if !child.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure(description: "no \(message) line with \(field)=; output so far:\n\(text)")
    }

    func signal(_ number: Int32) { child.signal(number) }

    /// Waits for exit and returns the status (nil on timeout, after which the process is killed).
    func waitForExit(timeout: Double = 20) async -> Int32? { await child.waitForExit(timeout: timeout) }
}

struct ProcessFailure: Error, CustomStringConvertible { let description: String }

/// What a test of the real executable needs: the sandbox on loopback, a throwaway database
/// directory, the environment that points a gateway at both, and a client. Released, it shuts
/// the client and loop down and removes the directory.
final class ProcessTestBed: Sendable {
    static let adminKey = "rgw_crash-test-admin-key-abcdefghijklmnopqrstuv"

    let group: EventLoopGroup
    let sandbox: RoktSandbox
    let client: HTTPClient
    let directory: String
    let environment: [String: String]

    /// `name` labels the directory; `extra` adds or overrides variables.
    init(_ name: String, extra: [String: String] = [:]) throws {
        group = try EventLoopGroup(loopCount: 1)
        sandbox = RoktSandbox(configuration: RoktSandbox.Configuration(seed: .demo))
        _ = try sandbox.start(host: "127.0.0.1", port: 0, group: group)
        directory = NSTemporaryDirectory() + "gateway-\(name)-\(UUID().uuidString)"
        var environment = [
            "PORT": "0", "DATABASE_PATH": directory + "/gateway.sqlite3", "ROKT_BASE_URL": sandbox.baseURL,
            "ROKT_API_TOKEN": SandboxDemo.token, "ROKT_PARENT_ACCOUNT_ID": SandboxDemo.parentAccountId,
            "GATEWAY_BOOTSTRAP_API_KEY": Self.adminKey, "LOG_FORMAT": "text", "SYNC_WAIT_MS": "0",
        ]
        environment.merge(extra) { _, new in new }
        self.environment = environment
        client = HTTPClient(group: group)
    }

    /// Admin-key headers (with the JSON content type when a body goes along).
    static func headers(json: Bool = false) -> HTTPHeaders {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(adminKey)"]
        if json { headers["Content-Type"] = "application/json" }
        return headers
    }

    deinit {
        client.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
        group.shutdown()
    }
}
