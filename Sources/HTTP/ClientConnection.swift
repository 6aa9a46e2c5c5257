#if canImport(Glibc)
    import Glibc
#endif
import CLinux
import Synchronization

/// A response as the client returns it: the whole body read.
public struct HTTPClientResponse: Sendable {
    public var status: HTTPStatus
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// One client socket on one loop: connects (and handshakes TLS), then runs one request at a
/// time. Confined to its loop's thread; async callers reach it through `loop.execute`.
final class ClientConnection: EventLoopSelectable, @unchecked Sendable {
    private enum State { case connecting, handshaking, idle, exchanging, closed }

    private struct Exchange {
        var continuation: CheckedContinuation<Result<(HTTPClientResponse, Bool), HTTPClientError>, Never>
        var method: HTTPMethod
        var outbound: [UInt8]
        var sent = 0
        var maxBodyBytes: Int
        var head: HTTPResponseHead?
        var framing: ResponseBodyFraming = .none
        var body: [UInt8] = []
        var chunked = ChunkedBodyDecoder()
        var remaining = 0
        var receivedAny = false
    }

    let fd: Int32
    unowned let loop: EventLoop
    let label: String
    private var transport: SocketTransport
    private var state: State = .connecting
    private var connectContinuation: CheckedContinuation<Result<Void, HTTPClientError>, Never>?
    private var exchange: Exchange?
    private var parser = HTTPResponseHeadParser()
    private var inbound: [UInt8] = []
    private var inboundStart = 0
    private var tlsSession: TLSSession?
    var deadline: UInt64 = 0
    /// Called on the loop when the connection dies while idle in the pool; set before it is connected.
    private var onIdleClose: (@Sendable (ClientConnection) -> Void)?
    /// Set (under the pool's lock) when the loop closed it while idle; read by the pool before reuse.
    let closedWhileIdle = Atomic<Bool>(false)
    private(set) var requestsServed = 0

    private init(fd: Int32, loop: EventLoop, label: String) {
        self.fd = fd
        self.loop = loop
        self.label = label
        transport = .plain(fd)
    }

    var isUsable: Bool { state == .idle }

    /// Connects to the first address that accepts, within `timeout` overall, then handshakes TLS when asked.
    static func connect(
        addresses: [ResolvedAddress], label: String, serverName: String, tls: TLSContext?, loop: EventLoop, timeout: Duration,
        onIdleClose: @escaping @Sendable (ClientConnection) -> Void
    ) async throws(HTTPClientError) -> ClientConnection {
        let deadline = Syscall.monotonicNanos() &+ timeout.nanoseconds
        var lastError = HTTPClientError.connect(label, "no address")
        for address in addresses {
            guard Syscall.monotonicNanos() < deadline else { throw .connectTimeout(label) }
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .connect(label, SystemError(call: "socket", errno: errno).description) }
            try? Syscall.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let connection = ClientConnection(fd: fd, loop: loop, label: label)
            connection.onIdleClose = onIdleClose
            let result: Result<Void, HTTPClientError> = await withCheckedContinuation { continuation in
                loop.execute {
                    connection.startConnect(address, serverName: serverName, tls: tls, deadline: deadline, continuation: continuation)
                }
            }
            switch result {
            case .success: return connection
            case .failure(let error) where error.kind == .connectFailed: lastError = error
            case .failure(let error): throw error
            }
        }
        throw lastError
    }

    private func startConnect(
        _ address: ResolvedAddress, serverName: String, tls: TLSContext?, deadline: UInt64,
        continuation: CheckedContinuation<Result<Void, HTTPClientError>, Never>
    ) {
        connectContinuation = continuation
        self.deadline = deadline
        if let tls {
            do {
                let session = try TLSSession.client(context: tls, fd: fd, serverName: serverName)
                tlsSession = session
                transport = .tls(fd, session)
            } catch {
                finishConnect(.failure(.tls(error)))
                return
            }
        }
        var address = address
        let rc = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if rc != 0 && errno != EINPROGRESS {
            let error = SystemError(call: "connect", errno: errno)
            Syscall.close(fd)
            state = .closed
            continuation.resume(returning: .failure(.connect(label, error.description)))
            connectContinuation = nil
            return
        }
        do {
            try loop.register(self, readable: false, writable: true)
        } catch {
            Syscall.close(fd)
            state = .closed
            finishConnect(.failure(.connect(label, error.description)))
        }
    }

    private func finishConnect(_ result: Result<Void, HTTPClientError>) {
        if case .failure = result { close() } else { state = .idle; deadline = 0 }
        connectContinuation?.resume(returning: result)
        connectContinuation = nil
    }

    private func continueHandshake() {
        guard let session = tlsSession else { return }
        switch session.handshake() {
        case .complete:
            loop.reregister(self, readable: true, writable: false)
            finishConnect(.success(()))
        case .wantRead: loop.reregister(self, readable: true, writable: false)
        case .wantWrite: loop.reregister(self, readable: false, writable: true)
        case .failed(let error): finishConnect(.failure(.tls(error)))
        }
    }

    // MARK: Requests

    /// Sends `request` and reads its whole response; the Bool says whether the connection can be reused.
    func execute(
        _ head: [UInt8], method: HTTPMethod, deadline: UInt64, maxBodyBytes: Int
    ) async -> Result<(HTTPClientResponse, Bool), HTTPClientError> {
        await withCheckedContinuation { continuation in
            loop.execute { [self] in
                guard state == .idle else {
                    continuation.resume(returning: .failure(.reset(afterSending: false, "connection closed while idle", beforeResponse: true)))
                    return
                }
                state = .exchanging
                self.deadline = deadline
                parser.reset()
                exchange = Exchange(continuation: continuation, method: method, outbound: head, maxBodyBytes: maxBodyBytes)
                flush()
            }
        }
    }

    /// Abandons the exchange in flight (task cancelled): the connection cannot be reused.
    func cancel() {
        loop.execute { [self] in
            guard let exchange else { return }
            fail(.cancelled(afterSending: exchange.sent > 0))
        }
    }

    private func flush() {
        guard var current = exchange else { return }
        while current.sent < current.outbound.count {
            let result = current.outbound.withUnsafeBytes { transport.write(UnsafeRawBufferPointer(rebasing: $0[current.sent...])) }
            switch result {
            case .bytes(let n):
                current.sent += n
            case .wouldBlock:
                exchange = current
                loop.reregister(self, readable: true, writable: true)
                return
            case .closed, .failed:
                exchange = current
                fail(.reset(afterSending: current.sent > 0, "connection closed while sending", beforeResponse: true))
                return
            }
        }
        current.outbound = []
        exchange = current
        loop.reregister(self, readable: true, writable: false)
    }

    func ready(readable: Bool, writable: Bool, hangup: Bool) {
        switch state {
        case .connecting:
            let error = Syscall.socketError(fd)
            guard error == 0 else {
                finishConnect(.failure(.connect(label, SystemError(call: "connect", errno: error).description)))
                return
            }
            if tlsSession != nil {
                state = .handshaking
                continueHandshake()
            } else {
                loop.reregister(self, readable: true, writable: false)
                finishConnect(.success(()))
            }
        case .handshaking:
            continueHandshake()
        case .idle:
            // TLS 1.3 servers send session tickets after the handshake: those read as nothing.
            // Anything else on an idle connection (EOF, reset, stray bytes) ends it.
            if case .wouldBlock = transport.read(into: loop.readBuffer) { return }
            close()
            onIdleClose?(self)
        case .exchanging:
            if writable { flush() }
            if readable || hangup { readResponse() }
        case .closed:
            break
        }
    }

    func deadlineExpired(now: UInt64) {
        deadline = 0
        switch state {
        case .connecting, .handshaking: finishConnect(.failure(.connectTimeout(label)))
        case .exchanging: fail(.timedOut(afterSending: (exchange?.sent ?? 0) > 0))
        case .idle:
            close()
            onIdleClose?(self)
        case .closed: break
        }
    }

    private func readResponse() {
        repeat {
            guard state == .exchanging else { return }
            readOnce()
        } while transport.hasBufferedInput
    }

    private func readOnce() {
        let buffer = loop.readBuffer
        switch transport.read(into: buffer) {
        case .bytes(let n):
            inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            exchange?.receivedAny = true
            parseResponse(atEOF: false)
        case .wouldBlock(let wantsWritable):
            if wantsWritable { loop.reregister(self, readable: true, writable: true) }
        case .closed:
            parseResponse(atEOF: true)
        case .failed(let reason):
            fail(.reset(afterSending: true, reason))
        }
    }

    private func parseResponse(atEOF: Bool) {
        guard var current = exchange else { return }
        while current.head == nil {
            let result = inbound.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[inboundStart...])) }
            switch result {
            case .needMoreData:
                exchange = current
                if atEOF {
                    fail(
                        current.receivedAny
                            ? .reset(afterSending: true, "connection closed mid-response")
                            : .reset(afterSending: true, "connection closed before any response", beforeResponse: true))
                }
                return
            case .invalid(let error):
                fail(.invalidResponse(error.description))
                return
            case .complete(let head, let consumed):
                inboundStart += consumed
                parser.reset()
                if head.status.code >= 100 && head.status.code < 200 { continue }  // interim (100 Continue)
                switch ResponseBodyFraming.framing(of: head, requestMethod: current.method) {
                case .failure(let error):
                    fail(.invalidResponse(error.description))
                    return
                case .success(let framing):
                    current.head = head
                    current.framing = framing
                    if case .contentLength(let length) = framing {
                        guard length <= current.maxBodyBytes else { fail(.tooLarge(current.maxBodyBytes)); return }
                        current.remaining = length
                    }
                }
            }
        }
        let available = inbound.count - inboundStart
        switch current.framing {
        case .none:
            complete(current, reusable: true)
            return
        case .contentLength:
            let take = min(current.remaining, available)
            current.body.append(contentsOf: inbound[inboundStart..<(inboundStart + take)])
            inboundStart += take
            current.remaining -= take
            if current.remaining == 0 { complete(current, reusable: true); return }
        case .chunked:
            let result = inbound.withUnsafeBytes { current.chunked.decode(UnsafeRawBufferPointer(rebasing: $0[inboundStart...]), into: &current.body) }
            switch result {
            case .needMoreData(let consumed): inboundStart += consumed
            case .complete(let consumed):
                inboundStart += consumed
                complete(current, reusable: true)
                return
            case .invalid(let error):
                fail(.invalidResponse(error.description))
                return
            }
        case .untilClose:
            current.body.append(contentsOf: inbound[inboundStart...])
            inboundStart = inbound.count
            if atEOF { complete(current, reusable: false); return }
        }
        if current.body.count > current.maxBodyBytes { fail(.tooLarge(current.maxBodyBytes)); return }
        exchange = current
        compactInbound()
        if atEOF { fail(.reset(afterSending: true, "connection closed mid-response")) }
    }

    private func compactInbound() {
        if inboundStart == inbound.count {
            inbound.removeAll(keepingCapacity: inbound.capacity <= 16 * 1024)
            inboundStart = 0
        }
    }

    private func complete(_ finished: Exchange, reusable: Bool) {
        guard let head = finished.head else { return }
        let keepAlive =
            reusable && inboundStart == inbound.count
            && !head.headers.containsToken("close", in: "Connection")
            && (head.version == .http1_1 || head.headers.containsToken("keep-alive", in: "Connection"))
        exchange = nil
        compactInbound()
        requestsServed += 1
        if keepAlive {
            state = .idle
            deadline = 0
            loop.reregister(self, readable: true, writable: false)
        } else {
            close()
        }
        let response = HTTPClientResponse(status: head.status, version: head.version, headers: head.headers, body: finished.body)
        finished.continuation.resume(returning: .success((response, keepAlive)))
    }

    private func fail(_ error: HTTPClientError) {
        let pending = exchange
        exchange = nil
        close()
        pending?.continuation.resume(returning: .failure(error))
    }

    /// Closes the socket; safe from any state, on the loop.
    func close() {
        guard state != .closed else { return }
        state = .closed
        deadline = 0
        loop.deregister(self)
        tlsSession?.shutdown()
        Syscall.close(fd)
        inbound = []
    }

    /// Back in the pool: closed by the loop if unused for `timeout`.
    func markIdle(timeout: Duration) {
        loop.execute { [self] in
            if state == .idle { deadline = Syscall.monotonicNanos() &+ timeout.nanoseconds }
        }
    }

    /// Closes from any thread.
    func closeSoon() { loop.execute { [self] in close() } }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero: deadlines on the monotonic clock.
    var nanoseconds: UInt64 {
        let (s, a) = components
        return UInt64(max(0, s)) &* 1_000_000_000 &+ UInt64(max(0, a) / 1_000_000_000)
    }
}
