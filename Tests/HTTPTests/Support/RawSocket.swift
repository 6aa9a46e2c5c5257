#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// A deliberately simple blocking TCP client for driving the server byte by byte in tests.
/// It shares no code with the HTTP module, so a parser bug cannot hide itself.
final class RawSocket {
    let fd: Int32

    init(port: Int, host: String = "127.0.0.1") throws {
        // `self.fd` is set last: once every property is set, a throwing init still runs `deinit`,
        // which would close the descriptor twice (the second time, perhaps another test's socket).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw RawSocketError("connect: \(e)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async throws { try await offPool { try self.sendBlocking(bytes) } }

    func sendBlocking(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawSocketError("send: \(errno)") }
            sent += n
        }
    }

    /// Reads whatever arrives within `timeout`; nil on EOF with nothing read.
    func readSome(timeout: Double = 5) async throws -> [UInt8]? { try await offPool { try self.readSomeBlocking(timeout: timeout) } }

    func readSomeBlocking(timeout: Double = 5) throws -> [UInt8]? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(timeout * 1000))
        guard ready > 0 else { throw RawSocketError("timed out waiting for data") }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { if errno == ECONNRESET { return nil }; throw RawSocketError("recv: \(errno)") }
        return n == 0 ? nil : Array(buffer[0..<n])
    }

    /// Reads until the peer closes (or `timeout` passes without data).
    func readUntilClose(timeout: Double = 5) async throws -> [UInt8] {
        try await offPool {
            var all: [UInt8] = []
            while let chunk = try self.readSomeBlocking(timeout: timeout) { all += chunk }
            return all
        }
    }

    /// True when the peer has closed: EOF (or reset) arrives within `timeout`.
    func isClosedByPeer(timeout: Double = 5) async -> Bool {
        (try? await offPool {
            while try self.readSomeBlocking(timeout: timeout) != nil {}
            return true
        }) ?? false
    }

    private var pending: [UInt8] = []

    /// Reads one response (Content-Length or chunked framing, or until close).
    func readResponse(timeout: Double = 5, headRequest: Bool = false) async throws -> RawResponse {
        try await offPool { try self.readResponseBlocking(timeout: timeout, headRequest: headRequest) }
    }

    func readResponseBlocking(timeout: Double = 5, headRequest: Bool = false) throws -> RawResponse {
        while true {
            if let (response, used) = RawResponse.parse(pending, headRequest: headRequest) {
                pending.removeFirst(used)
                return response
            }
            guard let chunk = try readSomeBlocking(timeout: timeout) else {
                if let (response, used) = RawResponse.parse(pending, headRequest: headRequest, atEOF: true) {
                    pending.removeFirst(used)
                    return response
                }
                throw RawSocketError("connection closed before a full response (\(pending.count) bytes)")
            }
            pending += chunk
        }
    }
}

struct RawSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A minimal independent response reader: enough framing for the server's own answers.
    static func parse(_ bytes: [UInt8], headRequest: Bool = false, atEOF: Bool = false) -> (RawResponse, Int)? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == marker }) else { return nil }
        let headText = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = RawResponse(status: status, headers: headers, body: [])
        let bodyStart = end + 4
        if status == 100 { return (response, bodyStart) }
        if headRequest || status == 204 || status == 304 { return (response, bodyStart) }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            guard bytes.count >= bodyStart + length else { return nil }
            response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            return (response, bodyStart + length)
        }
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            var index = bodyStart
            var body: [UInt8] = []
            while true {
                guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { return nil }
                guard let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16) else { return nil }
                index = lineEnd + 2
                if size == 0 {
                    guard bytes.count >= index + 2 else { return nil }
                    response.body = body
                    return (response, index + 2)
                }
                guard bytes.count >= index + size + 2 else { return nil }
                body += bytes[index..<(index + size)]
                index += size + 2
            }
        }
        guard atEOF else { return nil }
        response.body = Array(bytes[bodyStart...])
        return (response, bytes.count)
    }
}

extension RawSocket: @unchecked Sendable {}

/// Runs blocking socket calls on a thread of their own. Not on the (two-thread) cooperative pool:
/// a blocked test could starve the very task it waits for. Not on Dispatch's global queue either:
/// on Linux that pool adds a thread for blocked workers only about once a second, so many tests
/// blocked in `poll` at once left the scripted servers' work queued past the tests' 5 s waits.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
