#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif
import CLinux
import Foundation
import Synchronization

/// A child process started with `posix_spawn`, its stdout and stderr collected together.
///
/// Tests use this instead of Foundation's `Process`: on Linux `Process.run()` can crash
/// with an over-read of `/proc/self/fd` entries (swift-corelibs-foundation PR #5472),
/// which a test process holding many sockets triggers now and then.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let output = OutputBuffer()
    /// The exit status once reaped: the exit code, or the signal number when killed.
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`; `environment` nil inherits ours.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ChildProcessError(description: "pipe failed: errno \(errno)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // Neither end may leak into other children (the copies on 1 and 2 are made by dup2).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        // Nothing else of ours: a test's sockets opened without CLOEXEC would otherwise live on in
        // the child, and in any daemon it starts (PostgreSQL's server outlives the start script),
        // so a connection a test closes would never reach its peer as closed.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(writeEnd)
        guard status == 0 else {
            close(readEnd)
            throw ChildProcessError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        Thread.detachNewThread { [output] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count > 0 {
                    output.state.withLock { $0.bytes.append(contentsOf: buffer[0..<count]) }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(readEnd)
            output.state.withLock { $0.closed = true }
        }
    }

    /// Everything the child wrote to stdout and stderr so far.
    public var text: String { String(decoding: output.state.withLock { $0.bytes }, as: UTF8.self) }

    public var isRunning: Bool { reap(blocking: false) == nil }

    /// The exit code, or the signal number when a signal ended it; nil while running.
    public var exitStatus: Int32? { reap(blocking: false) }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Waits for the child to exit; after `timeout` seconds it is killed and nil returned.
    public func waitForExit(timeout: Double = 20) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if let status = exitStatus {
            // Its output is complete once the reader thread reached EOF.
            for _ in 0..<200 where !outputDrained { try? await Task.sleep(for: .milliseconds(10)) }
            return status
        }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
        return nil
    }

    /// Blocks until the child exits and its output is drained; returns its exit status.
    public func waitUntilExit() -> Int32 {
        let status = reap(blocking: true) ?? -1
        // The reader thread sees EOF once the child (and any grandchild) closed the pipe.
        for _ in 0..<400 where !outputDrained { usleep(5_000) }
        return status
    }

    private var outputDrained: Bool { output.state.withLock { $0.closed } }

    /// Waits for a line starting with `prefix` and returns the rest of that line.
    public func waitForLine(startingWith prefix: String, timeout: Double = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            if !isRunning {
                for _ in 0..<200 where !outputDrained { try await Task.sleep(for: .milliseconds(10)) }
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                    return String(line.dropFirst(prefix.count))
                }
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcessError(description: "no line starting with \"\(prefix)\"; output so far:\n\(text)")
    }

    private func reap(blocking: Bool) -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            guard result == pid else { return nil }
            let signal = status & 0x7f
            reaped = signal == 0 ? (status >> 8) & 0xff : signal
            return reaped
        }
    }

    deinit {
        if reap(blocking: false) == nil {
            kill(pid, SIGKILL)
            _ = reap(blocking: true)
        }
    }
}

/// What the reader thread collected, shared with the test.
private final class OutputBuffer: Sendable {
    let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
