#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// A request for `HTTPClient`.
public struct HTTPClientRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An HTTP/1.1 client with keep-alive connection pools per (scheme, host, port), running on
/// the same epoll loops as the server. TLS through OpenSSL verifies the peer's chain against
/// the system store (plus an optional extra CA) and its name.
///
/// Errors tell whether the request can have reached the server (`mayHaveReachedServer`), so a
/// caller can retry what is safe to retry. A request whose reused keep-alive connection turns
/// out to be closed before any response byte is retried once on a new connection, but only
/// for idempotent methods or requests carrying `Idempotency-Key`.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        /// From sending the request to the end of the response.
        public var requestTimeout: Duration = .seconds(30)
        public var maxConnectionsPerHost: Int = 32
        /// Pooled connections unused this long are closed.
        public var idleTimeout: Duration = .seconds(50)
        public var maxResponseBodyBytes: Int = 16 << 20
        public var tls: TLSConfiguration = .client()
        public var userAgent: String? = "rokt-gateway"
        /// Vets every address a host resolves to before connecting: answers why an address is
        /// refused, or nil. The connection then goes to the vetted address itself (no second
        /// lookup to race), while Host and SNI still carry the name.
        public var addressPolicy: (@Sendable (_ address: [UInt8]) -> String?)?
        /// Where host names are looked up; the lookup counts against the request's deadline.
        public var resolver: AddressResolver = .shared
        public init() {}
    }

    private struct PoolKey: Hashable { let scheme: String; let host: String; let port: Int }

    /// One host's pool: the state machine and the continuations of its waiters, under one lock.
    private final class Pool: Sendable {
        struct Guarded {
            var machine: ConnectionPoolState<ClientConnection>
            var waiters: [UInt64: CheckedContinuation<WaitOutcome, Never>] = [:]
        }
        let guarded: Mutex<Guarded>
        init(max: Int) { guarded = Mutex(Guarded(machine: ConnectionPoolState(maxConnections: max))) }
    }

    private enum WaitOutcome { case use(ClientConnection), connect, timedOut, shutdown }

    public let configuration: Configuration
    private let group: EventLoopGroup
    private let tlsContext: Mutex<TLSContext?>
    private let pools = Mutex<[PoolKey: Pool]>([:])
    private let nextWaiterId = Atomic<UInt64>(0)
    private let isShutdown = Atomic<Bool>(false)

    public init(configuration: Configuration = Configuration(), group: EventLoopGroup = .shared) {
        // TLS writes go through write(2): a vanished peer must give EPIPE, not SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.group = group
        tlsContext = Mutex(nil)
    }

    /// Sends `request` and returns the complete response (any status); throws only when no response arrived.
    public func execute(_ request: HTTPClientRequest, timeout: Duration? = nil) async throws(HTTPClientError) -> HTTPClientResponse {
        guard !isShutdown.load(ordering: .relaxed) else { throw .shutdown }
        guard let url = ClientURL(request.url) else { throw .invalidURL(request.url) }
        let head = serialize(request, url: url)
        let deadline = Syscall.monotonicNanos() &+ (timeout ?? configuration.requestTimeout).nanoseconds
        let retryable = [.get, .head, .put, .delete, .options].contains(request.method) || request.headers.contains("Idempotency-Key")
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try await lease(url, deadline: deadline)
            let result = await withTaskCancellationHandler {
                await connection.execute(head, method: request.method, deadline: deadline, maxBodyBytes: configuration.maxResponseBodyBytes)
            } onCancel: {
                connection.cancel()
            }
            switch result {
            case .success(let (response, reusable)):
                giveBack(connection, to: url, reusable: reusable)
                return response
            case .failure(let error):
                giveBack(connection, to: url, reusable: false)
                if reused && error.closedBeforeResponse && retryable && attempt == 1 && Syscall.monotonicNanos() < deadline { continue }
                throw error
            }
        }
    }

    public func get(_ url: String, headers: HTTPHeaders = HTTPHeaders()) async throws(HTTPClientError) -> HTTPClientResponse {
        try await execute(HTTPClientRequest(method: .get, url: url, headers: headers))
    }

    /// Closes idle connections and fails waiting requests; requests in flight finish.
    public func shutdown() {
        isShutdown.store(true, ordering: .relaxed)
        let all = pools.withLock { Array($0.values) }
        for pool in all {
            let (idle, waiters) = pool.guarded.withLock { guarded in
                let (idle, ids) = guarded.machine.drain()
                return (idle, ids.compactMap { guarded.waiters.removeValue(forKey: $0) })
            }
            for connection in idle { connection.closeSoon() }
            for waiter in waiters { waiter.resume(returning: .shutdown) }
        }
    }

    private func serialize(_ request: HTTPClientRequest, url: ClientURL) -> [UInt8] {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        for field in request.headers {
            // Framing and routing are the client's job; callers' copies would only conflict.
            if ["Host", "Content-Length", "Transfer-Encoding", "Connection"].contains(where: { field.name.asciiCaseInsensitiveEquals($0) }) { continue }
            headers.add(name: field.name, value: field.value)
        }
        if let userAgent = configuration.userAgent, !headers.contains("User-Agent") { headers.add(name: "User-Agent", value: userAgent) }
        if let body = request.body {
            headers.add(name: "Content-Length", value: String(body.count))
        } else if [.post, .put, .patch].contains(request.method) {
            headers.add(name: "Content-Length", value: "0")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + (request.body?.count ?? 0))
        HTTPSerializer.requestHead(method: request.method, target: url.target, headers: headers, into: &bytes)
        if let body = request.body { bytes.append(contentsOf: body) }
        return bytes
    }

    // MARK: Pool shell

    private func pool(for url: ClientURL) -> Pool {
        let key = PoolKey(scheme: url.scheme, host: url.host, port: url.port)
        return pools.withLock { pools in
            if let pool = pools[key] { return pool }
            let pool = Pool(max: configuration.maxConnectionsPerHost)
            pools[key] = pool
            return pool
        }
    }

    private func lease(_ url: ClientURL, deadline: UInt64) async throws(HTTPClientError) -> (ClientConnection, reused: Bool) {
        let pool = pool(for: url)
        let waiterId = nextWaiterId.wrappingAdd(1, ordering: .relaxed).newValue
        let timer = Task {
            try await Task.sleep(for: .nanoseconds(Int64(deadline &- min(deadline, Syscall.monotonicNanos()))))
            let waiter = pool.guarded.withLock { guarded in
                guarded.machine.cancelWaiter(waiterId) ? guarded.waiters.removeValue(forKey: waiterId) : nil
            }
            waiter?.resume(returning: .timedOut)
        }
        defer { timer.cancel() }
        let outcome: WaitOutcome = await withCheckedContinuation { continuation in
            let immediate: WaitOutcome? = pool.guarded.withLock { guarded in
                switch guarded.machine.acquire(waiterId: waiterId) {
                case .use(let connection): return .use(connection)
                case .connect: return .connect
                case .wait:
                    guarded.waiters[waiterId] = continuation
                    return nil
                }
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        switch outcome {
        case .use(let connection): return (connection, true)
        case .timedOut: throw .poolTimeout
        case .shutdown: throw .shutdown
        case .connect: break
        }
        do throws(HTTPClientError) {
            // The lookup spends the request's own budget; the connect timeout then bounds the connection alone.
            let addresses = try await configuration.resolver.resolve(
                host: url.host, port: url.port, deadline: deadline,
                timeoutError: .timedOut(afterSending: false))
            let connectDeadline = min(deadline, Syscall.monotonicNanos() &+ configuration.connectTimeout.nanoseconds)
            if let policy = configuration.addressPolicy {
                for address in addresses {
                    if let reason = policy(address.ipBytes) { throw HTTPClientError.addressRefused(url.host, address.description, reason) }
                }
            }
            let tls = url.isTLS ? try tlsContextForClient() : nil
            let connection = try await ClientConnection.connect(
                addresses: addresses, label: "\(url.host):\(url.port)", serverName: url.host, tls: tls,
                loop: group.next(), timeout: .nanoseconds(Int64(connectDeadline &- min(connectDeadline, Syscall.monotonicNanos()))),
                onIdleClose: { [weak self] connection in
                    self?.update(pool) { machine in
                        connection.closedWhileIdle.store(true, ordering: .releasing)
                        return machine.idleClosed(connection)
                    }
                })
            return (connection, false)
        } catch {
            update(pool) { $0.connectFailed() }
            throw error
        }
    }

    private func tlsContextForClient() throws(HTTPClientError) -> TLSContext {
        do {
            return try tlsContext.withLock { (cached) throws(TLSError) -> TLSContext in
                if let cached { return cached }
                let context = try TLSContext(configuration.tls)
                cached = context
                return context
            }
        } catch {
            throw .tls(error)
        }
    }

    private func giveBack(_ connection: ClientConnection, to url: ClientURL, reusable: Bool) {
        let pool = pool(for: url)
        if reusable, !isShutdown.load(ordering: .relaxed) {
            connection.markIdle(timeout: configuration.idleTimeout)
            // Checked under the pool's lock, where the loop records an idle close: a connection the
            // server closed meanwhile is never handed to the next caller.
            update(pool) { $0.release(connection, reusable: !connection.closedWhileIdle.load(ordering: .acquiring)) }
        } else {
            connection.closeSoon()
            update(pool) { $0.release(connection, reusable: false) }
        }
    }

    /// Applies one event to the pool's state machine and performs the wake-up it decides, outside the lock.
    private func update(_ pool: Pool, _ event: (inout ConnectionPoolState<ClientConnection>) -> ConnectionPoolState<ClientConnection>.WakeAction) {
        let wake: (CheckedContinuation<WaitOutcome, Never>, WaitOutcome)? = pool.guarded.withLock { guarded in
            switch event(&guarded.machine) {
            case .none: return nil
            case .use(let id, let connection): return guarded.waiters.removeValue(forKey: id).map { ($0, .use(connection)) }
            case .connect(let id): return guarded.waiters.removeValue(forKey: id).map { ($0, .connect) }
            }
        }
        if let (continuation, outcome) = wake { continuation.resume(returning: outcome) }
    }
}
