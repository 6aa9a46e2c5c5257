import Foundation
import Glibc

/// A TCP forwarder on 127.0.0.1 to a PostgreSQL server that lets the first connection through at
/// once and holds every later one (a session's CancelRequest goes on a connection of its own)
/// for `laterConnectionsDelay` before forwarding it: a cancel in flight, made as slow as a
/// congested network would make it.
final class DelayingProxy: Sendable {
    let port: Int
    private let listener: Int32

    init(to upstreamPort: Int, laterConnectionsDelay: Duration) throws {
        let (fd, port) = try SSLAnswerServer.listenOnLoopback(backlog: 8)
        self.port = port
        listener = fd
        Thread.detachNewThread {
            var accepted = 0
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else {
                    // Shut down by deinit: closed here, by the only thread using it, so that its
                    // number cannot come back as another socket while accept still holds it.
                    close(fd)
                    return
                }
                let delayed = accepted > 0
                accepted += 1
                Thread.detachNewThread {
                    if delayed { Thread.sleep(forTimeInterval: Double(laterConnectionsDelay.components.seconds) + Double(laterConnectionsDelay.components.attoseconds) / 1e18) }
                    Self.forward(client, to: upstreamPort)
                }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    /// Copies bytes both ways until either side closes, then closes both.
    private static func forward(_ client: Int32, to upstreamPort: Int) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = SSLAnswerServer.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(upstream)
            close(client)
            return
        }
        let done = DispatchSemaphore(value: 0)
        for (from, to) in [(client, upstream), (upstream, client)] {
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 16_384)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                    guard n > 0, buffer.withUnsafeBytes({ send(to, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }) == n else { break }
                }
                shutdown(to, Int32(SHUT_WR))
                done.signal()
            }
        }
        done.wait()
        done.wait()
        close(upstream)
        close(client)
    }
}
