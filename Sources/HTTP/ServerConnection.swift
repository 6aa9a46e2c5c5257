#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection: reads requests (one at a time, pipelined ones buffered), hands
/// each to the handler on a task that prefers this loop, and writes responses in order.
///
/// Confined to its loop's thread: the handler task runs with the loop as its executor
/// preference and every completion hops back with `loop.execute` if it is elsewhere.
final class ServerConnection: EventLoopSelectable, @unchecked Sendable {
    private enum State {
        case tlsHandshake
        /// Waiting for (the rest of) a request head; `since` is the first byte's arrival.
        case readingHead(since: UInt64?)
        case readingBody(head: HTTPRequestHead, body: BodyProgress)
        /// The handler (or a streamed body) owns the connection.
        case responding
        /// Output shut; reading and discarding until the peer closes (RFC 9112 §9.6).
        case lingering
        case closed
    }

    private enum BodyProgress {
        case contentLength(remaining: Int, body: [UInt8], limit: Int)
        case chunked(ChunkedBodyDecoder, body: [UInt8], limit: Int)
    }

    let fd: Int32
    let remoteAddress: String
    unowned let loop: EventLoop
    let server: HTTPServer
    private var transport: SocketTransport
    private var state: State
    private var parser: HTTPRequestHeadParser
    private var inbound: [UInt8] = []
    private var inboundStart = 0
    private var outbound: [UInt8] = []
    private var outboundSent = 0
    private var keepAlive = true
    /// The head filter's finding for the request whose body is being read (`HTTPRequest.screening`).
    private var screening: (any Sendable)?
    private var closeAfterFlush = false
    private var peerClosedInput = false
    private var shuttingDown = false
    private var readingEnabled = true
    private var writableWanted = false
    /// A TLS read that needs the socket writable (renegotiation-like traffic).
    private var readWantsWritable = false
    private var drainWaiters: [CheckedContinuation<Void, Error>] = []
    /// This connection's share of the server's body memory budget, held until the request is answered.
    private var reservedBodyBytes = 0
    var deadline: UInt64 = 0

    /// How much unread input a connection may buffer while its current request is handled.
    private var inboundBufferLimit: Int { server.configuration.parserLimits.maxHeaderBytes * 2 }
    private static let outboundHighWater = 256 * 1024

    init(fd: Int32, remoteAddress: String, loop: EventLoop, server: HTTPServer) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.server = server
        parser = HTTPRequestHeadParser(limits: server.configuration.parserLimits)
        if let context = server.tlsContext, let session = try? TLSSession.server(context: context, fd: fd) {
            transport = .tls(fd, session)
            state = .tlsHandshake
        } else {
            transport = .plain(fd)
            state = .readingHead(since: nil)
        }
    }

    func start() {
        if case .tlsHandshake = state {
            deadline = after(server.configuration.headerReadTimeout)
            continueHandshake()
        } else {
            deadline = after(server.configuration.idleTimeout)
        }
    }

    /// Beyond `maxConnections`: a short 503 and a close, never a silent drop.
    static func refuse(_ fd: Int32) {
        let body = #"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"connection limit reached"}"#
        let response =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        var bytes = Array(response.utf8)
        bytes.withUnsafeMutableBytes { _ = try? Syscall.send(fd, UnsafeRawBufferPointer($0)) }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        Syscall.close(fd)
    }

    // MARK: Events

    func ready(readable: Bool, writable: Bool, hangup: Bool) {
        if case .tlsHandshake = state {
            continueHandshake()
            return
        }
        if writable { flush() }
        if readWantsWritable && writable {
            readWantsWritable = false
            readAvailable()
        } else if readable || hangup {
            readAvailable()
        }
    }

    func deadlineExpired(now: UInt64) {
        deadline = 0
        switch state {
        case .readingHead(since: nil):
            close()  // idle keep-alive connection: nothing to answer
        case .readingHead, .readingBody:
            sendError(.requestTimeout, detail: "the request was not received in time")
        case .tlsHandshake, .lingering, .closed:
            close()
        case .responding:
            close()  // output stalled past writeTimeout: the peer is not reading
        }
    }

    func beginShutdown(of owner: HTTPServer) {
        guard owner === server else { return }
        shuttingDown = true
        switch state {
        case .readingHead(since: nil), .tlsHandshake, .lingering:
            close()  // nothing in flight: the answer (if any) is already out
        default:
            keepAlive = false
        }
    }

    func forceClose(of owner: HTTPServer) {
        guard owner === server else { return }
        close()
    }

    // MARK: TLS

    private func continueHandshake() {
        guard case .tls(_, let session) = transport else { return }
        switch session.handshake() {
        case .complete:
            state = .readingHead(since: nil)
            deadline = after(server.configuration.idleTimeout)
            setInterest(readable: true, writable: false)
            readAvailable()
        case .wantRead:
            setInterest(readable: true, writable: false)
        case .wantWrite:
            setInterest(readable: false, writable: true)
        case .failed:
            close()  // nothing HTTP can be said over a failed handshake
        }
    }

    // MARK: Reading

    private func readAvailable() {
        repeat {
            guard readingEnabled, !peerClosedInput, !isClosed else { return }
            readOnce()
        } while transport.hasBufferedInput
    }

    private func readOnce() {
        let buffer = loop.readBuffer
        switch transport.read(into: buffer) {
        case .bytes(let n):
            if case .lingering = state { return }  // discarded
            inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            process()
        case .wouldBlock(let wantsWritable):
            if wantsWritable {
                readWantsWritable = true
                updateInterest()
            }
        case .closed, .failed:
            peerClosedInput = true
            switch state {
            case .responding:
                // Answer what we were asked, then close; stop polling a socket that stays readable at EOF.
                keepAlive = false
                updateInterest()
            default:
                close()
            }
        }
    }

    /// Parses and dispatches as many buffered requests as the state allows.
    private func process() {
        while true {
            switch state {
            case .readingHead(let since):
                guard inboundStart < inbound.count else {
                    compactInbound()
                    return
                }
                // Pipelined requests wait while a large response is still going out.
                if outbound.count - outboundSent > Self.outboundHighWater { return }
                if since == nil {
                    let now = Syscall.monotonicNanos()
                    state = .readingHead(since: now)
                    deadline = now &+ server.configuration.headerReadTimeout.nanoseconds
                }
                let result = inbound.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[inboundStart...])) }
                switch result {
                case .needMoreData:
                    return
                case .invalid(let error):
                    sendError(error.status, detail: error.description)
                    return
                case .complete(let head, let consumed):
                    inboundStart += consumed
                    parser.reset()
                    beginBody(of: head)
                }
            case .readingBody(let head, var progress):
                state = .responding  // drop our copy of the body while we mutate it
                switch continueBody(&progress) {
                case .needMore:
                    state = .readingBody(head: head, body: progress)
                    compactInbound()
                    return
                case .complete(let body):
                    dispatch(head, body: body)
                case .failed(let status, let detail):
                    sendError(status, detail: detail)
                    return
                case .overBudget:
                    sendBodyMemoryExhausted()
                    return
                }
            case .responding, .lingering, .closed, .tlsHandshake:
                if inbound.count - inboundStart > inboundBufferLimit, readingEnabled {
                    readingEnabled = false
                    updateInterest()
                }
                return
            }
        }
    }

    private func beginBody(of head: HTTPRequestHead) {
        let framing: RequestBodyFraming
        switch RequestBodyFraming.framing(of: head) {
        case .success(let value): framing = value
        case .failure(let error):
            sendError(error.status, detail: error.description)
            return
        }
        if framing != .none {
            switch server.headFilter(head, remoteAddress) {
            case .refuse(let refusal):
                // Answered without the body, which is left unread: the connection closes after the answer.
                keepAlive = false
                state = .responding
                deadline = 0
                respond(refusal, to: head)
                return
            case .proceed(let finding):
                screening = finding
            }
        }
        let limit = server.bodyLimit(head.method, head.path) ?? server.configuration.maxBodyBytes
        if case .contentLength(let length) = framing, length > limit {
            // Refused from the head alone: the body is never read (RFC 9110 §15.5.14).
            sendError(.contentTooLarge, detail: "the request body of \(length) bytes exceeds the limit of \(limit) bytes")
            return
        }
        if case .contentLength(let length) = framing, !reserveBodyMemory(length) {
            sendBodyMemoryExhausted()
            return
        }
        if framing != .none, let expectation = head.headers["Expect"] {
            guard expectation.asciiCaseInsensitiveEquals("100-continue") else {
                sendError(.expectationFailed, detail: "only Expect: 100-continue is supported")
                return
            }
            if head.version == .http1_1 && inboundStart == inbound.count {
                outbound.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                flush()
            }
        }
        deadline = after(server.configuration.bodyReadTimeout)
        switch framing {
        case .none:
            dispatch(head, body: [])
        case .contentLength(let length):
            state = .readingBody(head: head, body: .contentLength(remaining: length, body: [], limit: limit))
        case .chunked:
            state = .readingBody(head: head, body: .chunked(ChunkedBodyDecoder(limits: server.configuration.parserLimits), body: [], limit: limit))
        }
    }

    private enum BodyStep { case needMore, complete([UInt8]), failed(HTTPStatus, String), overBudget }

    private func continueBody(_ progress: inout BodyProgress) -> BodyStep {
        switch progress {
        case .contentLength(var remaining, var body, let limit):
            let take = min(remaining, inbound.count - inboundStart)
            if body.isEmpty && remaining > 0 { body.reserveCapacity(remaining) }
            body.append(contentsOf: inbound[inboundStart..<(inboundStart + take)])
            inboundStart += take
            remaining -= take
            if remaining == 0 { return .complete(body) }
            progress = .contentLength(remaining: remaining, body: body, limit: limit)
            return .needMore
        case .chunked(var decoder, var body, let limit):
            let result = inbound.withUnsafeBytes { decoder.decode(UnsafeRawBufferPointer(rebasing: $0[inboundStart...]), into: &body) }
            if body.count > limit {
                return .failed(.contentTooLarge, "the request body exceeds the limit of \(limit) bytes")
            }
            if body.count > reservedBodyBytes, !reserveBodyMemory(body.count - reservedBodyBytes) { return .overBudget }
            switch result {
            case .needMoreData(let consumed):
                inboundStart += consumed
                progress = .chunked(decoder, body: body, limit: limit)
                return .needMore
            case .complete(let consumed):
                inboundStart += consumed
                return .complete(body)
            case .invalid(let error):
                return .failed(error.status, error.description)
            }
        }
    }

    private func compactInbound() {
        if inboundStart == inbound.count {
            // Give back big buffers: thousands of idle connections must stay small.
            if inbound.capacity > 16 * 1024 { inbound = [] } else { inbound.removeAll(keepingCapacity: true) }
            inboundStart = 0
        } else if inboundStart > 4096 {
            inbound.removeFirst(inboundStart)
            inboundStart = 0
        }
    }

    // MARK: Dispatch and respond

    private func dispatch(_ head: HTTPRequestHead, body: [UInt8]) {
        state = .responding
        deadline = 0
        if !head.wantsKeepAlive || shuttingDown || peerClosedInput { keepAlive = false }
        var request = HTTPRequest(head: head, body: body, remoteAddress: remoteAddress)
        request.screening = screening
        screening = nil
        let handler = server.handler
        Task(executorPreference: loop) { [self] in
            let response: HTTPResponse
            do {
                response = try await handler(request)
            } catch is ConnectionAbort {
                await onLoop { self.close() }
                return
            } catch {
                let id = Router.randomErrorId()
                ServerLog.error("\(id) \(head.method) \(head.path): handler failed: \(String(reflecting: error))")
                response = .internalError(id: id)
            }
            await onLoop { self.respond(response, to: head) }
        }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) async {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    private func respond(_ response: HTTPResponse, to head: HTTPRequestHead) {
        releaseBodyMemory()  // the handler is done with the body
        guard !isClosed else { return }
        if shuttingDown { keepAlive = false }
        let isHead = head.method == .head
        let date = loop.dateCache.now
        switch response.body {
        case .bytes(let bytes):
            let length: Int? = response.status.mayHaveBody ? bytes.count : nil
            HTTPSerializer.responseHead(
                response, version: head.version, contentLength: length, chunked: false,
                keepAlive: keepAlive, date: date, into: &outbound)
            if !isHead && response.status.mayHaveBody { outbound.append(contentsOf: bytes) }
            finishResponse()
        case .stream(let produce):
            let chunked = head.version == .http1_1 && !isHead
            if !chunked { keepAlive = false }  // HTTP/1.0 learns the end from the close
            HTTPSerializer.responseHead(
                response, version: head.version, contentLength: isHead ? 0 : nil, chunked: chunked,
                keepAlive: keepAlive, date: date, into: &outbound)
            flush()
            guard !isHead else { finishResponse(); return }
            let writer = ResponseBodyWriter { [self] bytes in
                try await self.writeStreamed(chunked ? ChunkedEncoding.chunk(bytes) : bytes)
            }
            Task(executorPreference: loop) { [self] in
                do {
                    try await produce(writer)
                    await onLoop {
                        if chunked { self.outbound.append(contentsOf: ChunkedEncoding.lastChunk) }
                        self.finishResponse()
                    }
                } catch {
                    // Mid-stream there is no status left to change: cut the connection so the peer sees an incomplete body.
                    ServerLog.error("streamed body failed \(head.method) \(head.path): \(error)")
                    await onLoop { self.close() }
                }
            }
        }
    }

    /// Queues part of a streamed body; suspends while more than the high-water mark is unsent.
    private func writeStreamed(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let work: @Sendable () -> Void = { [self] in
                guard !isClosed else { continuation.resume(throwing: SystemError(call: "write", errno: EPIPE)); return }
                outbound.append(contentsOf: bytes)
                flush()
                if isClosed {
                    continuation.resume(throwing: SystemError(call: "write", errno: EPIPE))
                } else if outbound.count - outboundSent > Self.outboundHighWater {
                    drainWaiters.append(continuation)
                } else {
                    continuation.resume()
                }
            }
            if loop.inEventLoop { work() } else { loop.execute(work) }
        }
    }

    private func finishResponse() {
        if keepAlive {
            state = .readingHead(since: nil)
            deadline = after(server.configuration.idleTimeout)
        } else {
            closeAfterFlush = true
        }
        flush()
        if keepAlive && !isClosed {
            if !readingEnabled {
                readingEnabled = true
                updateInterest()
            }
            process()
            if transport.hasBufferedInput { readAvailable() }
        }
    }

    /// An error answer that ends the connection: the framing may be lost, so nothing more is read as a request.
    private func sendError(_ status: HTTPStatus, detail: String, headers: HTTPHeaders = HTTPHeaders()) {
        releaseBodyMemory()
        keepAlive = false
        state = .responding
        let response = HTTPResponse.problem(status, detail: detail, headers: headers)
        HTTPSerializer.responseHead(
            response, version: .http1_1, contentLength: response.bodyBytes.count, chunked: false,
            keepAlive: false, date: loop.dateCache.now, into: &outbound)
        outbound.append(contentsOf: response.bodyBytes)
        closeAfterFlush = true
        flush()
    }

    // MARK: Body memory

    private func reserveBodyMemory(_ bytes: Int) -> Bool {
        guard server.bodyMemory.reserve(bytes) else { return false }
        reservedBodyBytes += bytes
        return true
    }

    private func releaseBodyMemory() {
        guard reservedBodyBytes > 0 else { return }
        server.bodyMemory.release(reservedBodyBytes)
        reservedBodyBytes = 0
    }

    /// Other connections hold the whole budget: a moment later it is likely free again.
    private func sendBodyMemoryExhausted() {
        sendError(.serviceUnavailable, detail: "the server is receiving too many request bodies; retry shortly", headers: ["Retry-After": "1"])
    }

    // MARK: Writing

    private func flush() {
        while outboundSent < outbound.count {
            let result = outbound.withUnsafeBytes { transport.write(UnsafeRawBufferPointer(rebasing: $0[outboundSent...])) }
            switch result {
            case .bytes(let n):
                outboundSent += n
            case .wouldBlock:
                if !writableWanted {
                    writableWanted = true
                    updateInterest()
                }
                if deadline == 0 || stateIsResponding { deadline = after(server.configuration.writeTimeout) }
                return
            case .closed, .failed:
                close()
                return
            }
        }
        // Everything is out.
        if outbound.capacity > 64 * 1024 { outbound = [] } else { outbound.removeAll(keepingCapacity: true) }
        outboundSent = 0
        if writableWanted {
            writableWanted = false
            updateInterest()
        }
        if stateIsResponding, drainWaiters.isEmpty { deadline = 0 }
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        if closeAfterFlush { beginLingeringClose() }
    }

    private var stateIsResponding: Bool {
        if case .responding = state { return true }
        return false
    }

    private func beginLingeringClose() {
        guard !isClosed else { return }
        if case .lingering = state { return }
        if peerClosedInput {
            close()
            return
        }
        // Closing with unread input would reset the connection and could destroy the response in flight;
        // shut our side, read until the peer closes, but never for long.
        transport.shutdownOutput()
        state = .lingering
        // Long enough for the peer to read the answer and close; short while the server drains.
        deadline = Syscall.monotonicNanos() &+ (shuttingDown ? 200_000_000 : 2_000_000_000)
        readingEnabled = true
        inbound = []
        inboundStart = 0
        updateInterest()
    }

    private func setInterest(readable: Bool, writable: Bool) {
        loop.reregister(self, readable: readable, writable: writable)
    }

    private func updateInterest() {
        guard !isClosed else { return }
        let readable = readingEnabled && !peerClosedInput
        setInterest(readable: readable, writable: writableWanted || readWantsWritable)
    }

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    func close() {
        guard !isClosed else { return }
        state = .closed
        deadline = 0
        releaseBodyMemory()
        loop.deregister(self)
        Syscall.close(fd)
        inbound = []
        outbound = []
        server.activeConnections.wrappingSubtract(1, ordering: .relaxed)
        let waiters = drainWaiters
        drainWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: SystemError(call: "write", errno: EPIPE)) }
    }

    // MARK: Time

    private func after(_ duration: Duration) -> UInt64 { Syscall.monotonicNanos() &+ duration.nanoseconds }
}
