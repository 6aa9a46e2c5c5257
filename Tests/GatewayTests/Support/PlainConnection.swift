import Foundation

/// A blocking client socket on 127.0.0.1, so a test can hold a request half-sent.
final class PlainConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        // `self.fd` is set last: once every property is set, a throwing init still runs `deinit`,
        // which would close the descriptor twice (the second time, perhaps another test's socket).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED
            close(fd)
            throw POSIXError(code)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Whether the port still takes a new connection.
    static func accepts(port: Int) -> Bool { (try? PlainConnection(port: port)) != nil }

    /// Sends `request` on a new connection and returns everything answered until the close.
    static func exchange(port: Int, _ request: String) async throws -> String {
        let connection = try PlainConnection(port: port)
        try connection.send(request)
        return try await connection.receiveAll()
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw POSIXError(.EPIPE)
        }
    }

    /// Everything received until the peer closes (bounded by 10 s of silence).
    func receiveAll() async throws -> String {
        let fd = fd
        // A thread of its own: Dispatch's global pool grows slowly on Linux while its workers block.
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&pfd, 1, 10_000) > 0 else {
                        continuation.resume(throwing: POSIXError(.ETIMEDOUT))
                        return
                    }
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    received += buffer[0..<n]
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }
        }
    }
}
