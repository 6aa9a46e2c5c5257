import ChildProcess
import Foundation

/// The real `rokt-gateway` executable, started as a child process (built by `swift test`
/// next to the test bundle), with helpers to read its output and signal it.
final class GatewayProcess: Sendable {
    let child: ChildProcess

    static var executable: URL {
        // The test bundle lives in the products directory, beside the executables.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rokt-gateway")
    }

    init(arguments: [String] = ["serve"], environment: [String: String]) throws {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        child = try ChildProcess(executable: Self.executable.path, arguments: arguments, environment: env)
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
