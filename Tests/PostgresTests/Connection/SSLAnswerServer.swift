import Foundation
import Glibc

/// A listener on 127.0.0.1 for the answers a real server never gives: with an `answer`, it takes
/// one connection, reads the SSLRequest and sends those bytes ('N' to a client that requires TLS,
/// bytes injected after 'S'); without one it never accepts, so the client waits in vain.
///
/// The accepting thread closes the listener itself, right after accept: a descriptor closed
/// while another thread may still use it could be reused by another test's socket.
final class SSLAnswerServer: Sendable {
    let port: Int
    /// Closed by `deinit` only when no thread took it.
    private let silentListener: Int32?

    init(answer: [UInt8]?) throws {
        let (fd, port) = try Self.listenOnLoopback(backlog: 4)
        self.port = port
        guard let answer else {
            silentListener = fd
            return
        }
        silentListener = nil
        Thread.detachNewThread {
            let client = accept(fd, nil, nil)
            close(fd)
            guard client >= 0 else { return }
            var request = [UInt8](repeating: 0, count: 8)
            _ = recv(client, &request, 8, Int32(MSG_WAITALL))
            _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
            // Keep the socket open until the client gives up, so only the answer decides.
            var rest = [UInt8](repeating: 0, count: 1024)
            while recv(client, &rest, rest.count, 0) > 0 {}
            close(client)
        }
    }

    /// 127.0.0.1 at `port` (0: any free port, for bind).
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }

    /// A listening socket on 127.0.0.1 at a free port.
    static func listenOnLoopback(backlog: Int32) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Whether this host can bind ::1 (some containers have no IPv6).
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }()

    deinit {
        if let silentListener { close(silentListener) }
    }
}
