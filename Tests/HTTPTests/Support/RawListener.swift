#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// A scripted TCP server for client tests: each accepted connection is handed, blocking, to
/// `script` on its own thread. Shares no code with the HTTP module.
final class RawListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let accepted = NSLock()
    private var _connections = 0
    private var _stopped = false
    private let closed = DispatchSemaphore(value: 0)
    var connections: Int { accepted.lock(); defer { accepted.unlock() }; return _connections }

    init(script: @escaping @Sendable (_ connection: Int32, _ index: Int) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 64)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        // The accept thread alone closes `fd`, after its last accept: closed under it, the number
        // could be handed to another listener before the thread first calls accept, which would
        // then take that listener's connections.
        Thread.detachNewThread { [self] in
            defer { close(fd); closed.signal() }
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                let index = {
                    accepted.lock(); defer { accepted.unlock() }; _connections += 1; return _connections
                }()
                // A thread per connection, for the reason `offPool` gives.
                Thread.detachNewThread {
                    script(client, index)
                    close(client)
                }
            }
        }
    }

    /// Stops listening (a later connect is refused) and returns once the descriptor is closed.
    func stop() {
        let first = accepted.withLock {
            defer { _stopped = true }; return !_stopped
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))  // accept fails from now on, whether it is waiting or not yet called
        closed.wait()
    }

    /// Reads one request head (up to the blank line) from a blocking socket.
    static func readHead(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            bytes.append(byte)
            if bytes.count >= 4 && bytes.suffix(4) == [13, 10, 13, 10] { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
