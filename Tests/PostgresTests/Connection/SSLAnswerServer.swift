import Foundation
import Glibc

/// A listener on 127.0.0.1 that reads one SSLRequest and answers with fixed bytes, for the
/// answers a real server never gives ('N' to a client that requires TLS, bytes injected after 'S').
final class SSLAnswerServer: Sendable {
    let port: Int
    private let fd: Int32

    init(answer: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            let client = accept(fd, nil, nil)
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

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
