#if canImport(Glibc)
    import Glibc
#endif
import HTTP

/// A non-blocking socket to the server, in the clear or through TLS, used by one connection's own
/// I/O thread only (hence not Sendable). `wait` is poll(2) with a deadline on that thread: the
/// startup exchange reads as straight-line code and never touches the Swift cooperative pool.
final class PostgresSocket {
    enum IO {
        case bytes(Int)
        case wouldBlock(wantsWritable: Bool)
        case closed
        case failed(String)
    }

    let fd: Int32
    private(set) var tls: TLSSession?

    private init(fd: Int32) { self.fd = fd }

    deinit {
        tls?.close()
        Glibc.close(fd)
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    static func deadline(after duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return now() &+ UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// Connects to the first address of `endpoint` that accepts before `deadline` (nil: no limit
    /// but the kernel's). Host names are resolved here, on the connection's own thread.
    static func connect(to endpoint: PostgresEndpoint, deadline: UInt64?) throws(PostgresConnectionError) -> PostgresSocket {
        let label = endpoint.label
        var lastError = "no address"
        for (family, address) in try addresses(of: endpoint) {
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .connectFailed(endpoint: label, reason: "socket: \(errnoText())") }
            let socket = PostgresSocket(fd: fd)
            if family != AF_UNIX {
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            let rc = address.withUnsafeBytes { raw in
                Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            if rc != 0 && errno != EINPROGRESS {
                lastError = errnoText()
                continue
            }
            guard socket.wait(writable: true, deadline: deadline) else { throw .connectTimedOut(endpoint: label) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return socket }
            lastError = String(cString: strerror(error))
        }
        throw .connectFailed(endpoint: label, reason: lastError)
    }

    /// The socket addresses to try, as raw sockaddr bytes.
    private static func addresses(of endpoint: PostgresEndpoint) throws(PostgresConnectionError) -> [(Int32, [UInt8])] {
        switch endpoint {
        case .unixSocket:
            let path = Array(endpoint.socketPath!.utf8)
            var address = sockaddr_un()
            guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw .connectFailed(endpoint: endpoint.label, reason: "socket path too long")
            }
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path + [0]) }
            return [(AF_UNIX, withUnsafeBytes(of: address) { Array($0) })]
        case .tcp(let host, let numeric, let port):
            // getaddrinfo blocks: fine here, on this connection's own thread (connect_timeout
            // does not bound it; the system resolver's own timeouts do).
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            if numeric != nil { hints.ai_flags = AI_NUMERICHOST }
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(numeric ?? host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw .connectFailed(endpoint: endpoint.label, reason: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
            }
            defer { freeaddrinfo(first) }
            var found: [(Int32, [UInt8])] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let address = entry.pointee.ai_addr, entry.pointee.ai_family == AF_INET || entry.pointee.ai_family == AF_INET6 {
                    found.append((entry.pointee.ai_family, Array(UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))))
                }
                cursor = entry.pointee.ai_next
            }
            return found
        }
    }

    /// Runs the TLS handshake before `deadline`.
    func startTLS(context: TLSContext, serverName: String, deadline: UInt64?) throws(PostgresConnectionError) {
        let session: TLSSession
        do { session = try TLSSession.client(context: context, fd: fd, serverName: serverName) } catch { throw .tlsFailed(error.description) }
        tls = session
        while true {
            switch session.handshake() {
            case .complete: return
            case .wantRead: guard wait(writable: false, deadline: deadline) else { throw .tlsFailed("handshake timed out") }
            case .wantWrite: guard wait(writable: true, deadline: deadline) else { throw .tlsFailed("handshake timed out") }
            case .failed(let error): throw .tlsFailed(error.description)
            }
        }
    }

    /// Waits until the socket is readable (or writable); false when `deadline` passed first.
    func wait(writable: Bool, deadline: UInt64?) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(writable ? POLLOUT : POLLIN), revents: 0)
        while true {
            let rc = poll(&pfd, 1, Self.timeoutMilliseconds(until: deadline))
            if rc > 0 { return true }
            if rc < 0 && errno == EINTR { continue }
            if rc == 0, let deadline, Self.now() >= deadline { return false }
            if rc < 0 { return true }  // let the read or write report the error
        }
    }

    /// poll's timeout for `deadline`: -1 without one, rounded up so we never wake early.
    static func timeoutMilliseconds(until deadline: UInt64?) -> Int32 {
        guard let deadline else { return -1 }
        let now = now()
        guard deadline > now else { return 0 }
        return Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
    }

    /// Decrypted bytes OpenSSL holds that poll cannot see.
    var hasBufferedInput: Bool { (tls?.pendingBytes ?? 0) > 0 }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IO {
        if let tls {
            switch tls.read(into: buffer) {
            case .bytes(let n): return .bytes(n)
            case .wantRead: return .wouldBlock(wantsWritable: false)
            case .wantWrite: return .wouldBlock(wantsWritable: true)
            case .closed: return .closed
            case .failed(let error): return .failed(error.description)
            }
        }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return .bytes(n) }
        if n == 0 { return .closed }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock(wantsWritable: false)
        case ECONNRESET: return .closed
        default: return .failed(Self.errnoText())
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IO {
        if let tls {
            switch tls.write(bytes) {
            case .bytes(let n): return .bytes(n)
            case .wantRead: return .wouldBlock(wantsWritable: false)
            case .wantWrite: return .wouldBlock(wantsWritable: true)
            case .closed: return .closed
            case .failed(let error): return .failed(error.description)
            }
        }
        let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return .bytes(n) }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock(wantsWritable: true)
        default: return .failed(Self.errnoText())
        }
    }

    /// Writes all of `bytes` before `deadline`, waiting as needed (startup, cancel, terminate).
    func writeAll(_ bytes: [UInt8], deadline: UInt64?) throws(PostgresConnectionError) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .bytes(let n): sent += n
            case .wouldBlock(let wantsWritable):
                guard wait(writable: wantsWritable, deadline: deadline) else { throw .closed(reason: "write timed out", serverError: nil) }
            case .closed: throw .closed(reason: "the server closed the connection", serverError: nil)
            case .failed(let reason): throw .closed(reason: reason, serverError: nil)
            }
        }
    }

    /// Reads what is available (at least one byte) before `deadline`.
    func readSome(into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64?) throws(PostgresConnectionError) -> Int {
        while true {
            switch read(into: buffer) {
            case .bytes(let n): return n
            case .wouldBlock(let wantsWritable):
                guard wait(writable: wantsWritable, deadline: deadline) else { throw .closed(reason: "read timed out", serverError: nil) }
            case .closed: throw .closed(reason: "the server closed the connection", serverError: nil)
            case .failed(let reason): throw .closed(reason: reason, serverError: nil)
            }
        }
    }

    /// TLS close_notify (best effort), then FIN.
    func shutdownOutput() {
        tls?.shutdown()
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

extension PostgresEndpoint {
    /// host:port or the socket path, for errors.
    var label: String {
        switch self {
        case .tcp(let host, _, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket: socketPath ?? ""
        }
    }
}
