#if canImport(Glibc)
    import Glibc
#endif
import CLinux
import Synchronization

/// An HTTP/1.1 server on non-blocking sockets and epoll: one listening socket per event loop
/// (SO_REUSEPORT lets the kernel spread connections), never a thread per connection.
public final class HTTPServer: Sendable {
    /// Every limit and timeout of the server, with the defaults a public-facing service wants.
    public struct Configuration: Sendable {
        /// `::` listens dual-stack (IPv4-mapped too); falls back to 0.0.0.0 where IPv6 is absent.
        public var host: String = "::"
        public var port: Int = 8080
        public var backlog: Int32 = 1024
        public var maxConnections: Int = 10_000
        public var parserLimits = HTTPParserLimits()
        /// Default request body limit; a route may set its own.
        public var maxBodyBytes: Int = 1 << 20
        /// Request bodies held by all connections together; a body that would exceed it is
        /// answered 503 with `Retry-After: 1` before it is read.
        public var maxBodyMemoryBytes: Int = 64 << 20
        /// From a request's first byte to the end of its head (slowloris).
        public var headerReadTimeout: Duration = .seconds(10)
        /// From the end of the head to the end of the body.
        public var bodyReadTimeout: Duration = .seconds(30)
        /// How long a keep-alive connection may sit between requests.
        public var idleTimeout: Duration = .seconds(60)
        /// How long a response may make no progress into a peer that does not read.
        public var writeTimeout: Duration = .seconds(30)
        /// How long a shutdown waits for in-flight requests before closing them.
        public var shutdownGracePeriod: Duration = .seconds(10)
        /// TLS on the listener when set.
        public var tls: TLSConfiguration?

        public init() {}
        public init(host: String = "::", port: Int) { self.host = host; self.port = port }
    }

    let configuration: Configuration
    let handler: HTTPHandler
    let bodyLimit: @Sendable (HTTPMethod, String) -> Int?
    let headFilter: HeadFilter
    let bodyMemory: BodyMemoryBudget
    let group: EventLoopGroup
    private let ownsGroup: Bool
    let tlsContext: TLSContext?
    let activeConnections = Atomic<Int>(0)
    private let state = Mutex(State())

    private struct State {
        var port: Int?
        var listeners: [(loop: EventLoop, acceptor: Acceptor)] = []
        var shuttingDown = false
    }

    /// - Parameters:
    ///   - group: the loops to run on; the server makes (and later stops) its own when nil.
    ///   - bodyLimit: a per-route body limit, asked before a body is read so 413 comes first.
    ///   - headFilter: asked for every request that announces a body, before any of it is read;
    ///     a response it returns is sent instead of calling the handler, and the connection then
    ///     closes (the unread body would otherwise be taken for the next request).
    public init(
        configuration: Configuration, group: EventLoopGroup? = nil,
        bodyLimit: @escaping @Sendable (HTTPMethod, String) -> Int? = { _, _ in nil },
        headFilter: @escaping HeadFilter = { _, _ in .proceed() },
        handler: @escaping HTTPHandler
    ) throws {
        self.configuration = configuration
        self.handler = handler
        self.bodyLimit = bodyLimit
        self.headFilter = headFilter
        bodyMemory = BodyMemoryBudget(capacity: configuration.maxBodyMemoryBytes)
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            self.group = try EventLoopGroup()
            ownsGroup = true
        }
        tlsContext = try configuration.tls.map { try TLSContext($0) }
    }

    public convenience init(configuration: Configuration, group: EventLoopGroup? = nil, router: Router) throws {
        try self.init(configuration: configuration, group: group, bodyLimit: { router.bodyLimit(method: $0, path: $1) }) {
            try await router.handle($0)
        }
    }

    /// Refuses a request from its head alone (a missing credential, say) so its body is never
    /// buffered, or lets it through with what it learnt (handed to the handler as
    /// `HTTPRequest.screening`, so the handler need not work it out again). Runs on the
    /// connection's loop: it must not block. Given the head and the peer (`ip:port`).
    public typealias HeadFilter = @Sendable (HTTPRequestHead, _ remoteAddress: String) -> HeadScreening

    /// Request-body bytes held right now across all connections.
    public var bodyMemoryInUse: Int { bodyMemory.reserved }

    /// The bound port (useful with port 0), once started.
    public var port: Int? { state.withLock { $0.port } }
    public var connectionCount: Int { activeConnections.load(ordering: .relaxed) }

    /// Binds and starts accepting on every loop; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        // Writes to a vanished peer must fail with EPIPE, not kill the process (TLS writes use write(2)).
        signal(SIGPIPE, SIG_IGN)
        var port = configuration.port
        var listeners: [(EventLoop, Acceptor)] = []
        do {
            for loop in group.loops {
                let fd = try Self.listen(host: configuration.host, port: port, backlog: configuration.backlog)
                if port == 0 { port = SocketAddress.localPort(of: fd) ?? 0 }
                listeners.append((loop, Acceptor(fd: fd, loop: loop, server: self)))
            }
        } catch {
            for (_, acceptor) in listeners { Syscall.close(acceptor.fd) }
            throw error
        }
        state.withLock {
            $0.port = port
            $0.listeners = listeners.map { (loop: $0.0, acceptor: $0.1) }
        }
        for (loop, acceptor) in listeners {
            loop.execute {
                do { try loop.register(acceptor) } catch { ServerLog.error("cannot watch listener: \(error)") }
            }
        }
        return port
    }

    static func listen(host: String, port: Int, backlog: Int32) throws(SystemError) -> Int32 {
        guard var address = SocketAddress.make(host: host, port: port) else {
            throw SystemError(call: "inet_pton(\(host))", errno: EINVAL)
        }
        var fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0, address.family == AF_INET6, host == "::", let v4 = SocketAddress.make(host: "0.0.0.0", port: port) {
            // No IPv6 on this host: serve IPv4 alone rather than not at all.
            address = v4
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        do {
            try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
            if address.family == AF_INET6 { try Syscall.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            _ = try withUnsafePointer(to: &address.storage) { (p) throws(SystemError) -> Int32 in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) -> Int32 in
                    try Syscall.call("bind") { bind(fd, sa, address.length) }
                }
            }
            _ = try Syscall.call("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Syscall.close(fd)
            throw error
        }
        return fd
    }

    /// Graceful shutdown: stop accepting, close idle connections, let in-flight requests
    /// finish (answered with `Connection: close`) until the grace period ends, then close the rest.
    public func shutdown(gracePeriod: Duration? = nil) async {
        let listeners = state.withLock { state -> [(loop: EventLoop, acceptor: Acceptor)] in
            guard !state.shuttingDown else { return [] }
            state.shuttingDown = true
            return state.listeners
        }
        for (loop, acceptor) in listeners {
            loop.execute { [self] in
                acceptor.close()
                loop.forEachSelectable { ($0 as? ServerConnection)?.beginShutdown(of: self) }
            }
        }
        let grace = gracePeriod ?? configuration.shutdownGracePeriod
        let deadline = ContinuousClock.now.advanced(by: grace)
        while connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if connectionCount > 0 {
            for loop in group.loops {
                loop.execute { [self] in loop.forEachSelectable { ($0 as? ServerConnection)?.forceClose(of: self) } }
            }
            while connectionCount > 0 { try? await Task.sleep(for: .milliseconds(5)) }
        }
        if ownsGroup { group.shutdown() }
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }
}

/// The listening socket of one loop.
final class Acceptor: EventLoopSelectable, @unchecked Sendable {
    // Confined to `loop`'s thread after `start` hands it over.
    let fd: Int32
    unowned let loop: EventLoop
    let server: HTTPServer
    var deadline: UInt64 = 0
    private var closed = false

    init(fd: Int32, loop: EventLoop, server: HTTPServer) {
        self.fd = fd
        self.loop = loop
        self.server = server
    }

    func ready(readable: Bool, writable: Bool, hangup: Bool) {
        // A bounded batch per wake-up so one busy listener cannot starve established connections.
        for _ in 0..<64 {
            let accepted: NonBlocking<(fd: Int32, address: String)>
            do {
                accepted = try Syscall.accept(fd)
            } catch {
                if error.errno == EMFILE || error.errno == ENFILE || error.errno == ENOBUFS || error.errno == ENOMEM {
                    // Out of descriptors: stop listening for a moment instead of spinning on a ready socket.
                    ServerLog.error("accept paused: \(error)")
                    loop.reregister(self, readable: false, writable: false)
                    deadline = Syscall.monotonicNanos() &+ 100_000_000
                    return
                }
                continue  // ECONNABORTED and friends concern that one client only.
            }
            guard case .done(let client) = accepted else { return }
            admit(client.fd, address: client.address)
        }
    }

    private func admit(_ clientFD: Int32, address: String) {
        let active = server.activeConnections.wrappingAdd(1, ordering: .relaxed).newValue
        guard active <= server.configuration.maxConnections else {
            server.activeConnections.wrappingSubtract(1, ordering: .relaxed)
            ServerConnection.refuse(clientFD)
            return
        }
        try? Syscall.setOption(clientFD, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let connection = ServerConnection(fd: clientFD, remoteAddress: address, loop: loop, server: server)
        do {
            try loop.register(connection)
            connection.start()
        } catch {
            Syscall.close(clientFD)
            server.activeConnections.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    func deadlineExpired(now: UInt64) {
        deadline = 0
        if !closed { loop.reregister(self, readable: true, writable: false) }
    }

    func close() {
        guard !closed else { return }
        closed = true
        loop.deregister(self)
        Syscall.close(fd)
    }
}

/// Where the HTTP layer reports what it cannot hand to anyone: stderr until the gateway's
/// logger installs itself with `ServerLog.install`.
public enum ServerLog {
    private static let sink = Mutex<@Sendable (String) -> Void>({ message in
        var line = Array("http: \(message)\n".utf8)
        line.withUnsafeMutableBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    })

    public static func install(_ newSink: @escaping @Sendable (String) -> Void) { sink.withLock { $0 = newSink } }

    static func error(_ message: String) {
        let current = sink.withLock { $0 }
        current(message)
    }
}

/// A `HTTPServer.HeadFilter`'s answer.
public enum HeadScreening: Sendable {
    /// Read the body and call the handler, with `finding` as the request's `screening`.
    case proceed(finding: (any Sendable)? = nil)
    /// Send this instead: the body is never read, and the connection closes after it.
    case refuse(HTTPResponse)

    /// The response of `.refuse`; nil when the request proceeds.
    public var refusal: HTTPResponse? {
        if case .refuse(let response) = self { response } else { nil }
    }
}
