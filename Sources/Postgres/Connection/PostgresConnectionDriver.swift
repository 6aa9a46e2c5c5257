#if canImport(Glibc)
    import Glibc
#endif
import HTTP

/// One session: opened on a thread of its own (connect, TLS and authentication read as
/// straight-line code with poll(2) deadlines), then run by an event loop of the process's group
/// until either side closes. The loop reads whatever the server sends (notifications and a
/// server's FATAL arrive while idle too) and resumes callers itself: a caller whose task runs on
/// that loop continues without a single thread switch. Everything here is confined to the loop's
/// thread (hence `@unchecked Sendable`); it meets callers only through `PostgresConnectionState`.
final class PostgresConnectionDriver: EventLoopSelectable, @unchecked Sendable {
    private enum CancelReason { case timeout, task }

    private struct Running {
        let request: PostgresConnectionState.Request
        var collector = PostgresReplyCollector()
        var cancelled: CancelReason?
    }

    private let socket: PostgresSocket
    private let endpoint: PostgresEndpoint
    private let backendKey: (processID: Int32, secretKey: Int32)
    private let state: PostgresConnectionState
    private let loop: EventLoop
    private var decoder: PostgresBackendDecoder
    private var outbound: [UInt8] = []
    private var sent = 0
    private var running: Running?
    /// The last FATAL the server sent: why it is about to close the socket.
    private var fatal: PostgresError?
    /// TLS needs the socket writable before it can read on (e.g. to answer a KeyUpdate).
    private var readWantsWritable = false
    /// Whether the loop watches for writability now (changed only when it must).
    private var watchingWritable = false
    /// A cancel request is on its way on a connection of its own: nothing else is written
    /// before it has arrived, so that it can never land on the next query.
    private var cancelling = false
    private var finished = false

    private init(
        socket: PostgresSocket, endpoint: PostgresEndpoint, backendKey: (Int32, Int32), state: PostgresConnectionState, decoder: PostgresBackendDecoder,
        loop: EventLoop
    ) {
        (self.socket, self.endpoint, self.backendKey, self.state, self.decoder, self.loop) = (socket, endpoint, backendKey, state, decoder, loop)
    }

    var fd: Int32 { socket.fd }

    /// The running query's, until it is being cancelled (the loop sweeps deadlines every 50 ms).
    var deadline: UInt64 { running?.cancelled == nil ? running?.request.deadline ?? 0 : 0 }

    /// Opens the session on a thread of its own, then hands it to a loop of `group`; `connected`
    /// gets the backend's process id or why the session failed.
    static func start(
        configuration: PostgresConfiguration, group: EventLoopGroup, state: PostgresConnectionState,
        connected: @escaping @Sendable (Result<Int32, PostgresConnectionError>) -> Void
    ) {
        @Sendable func fail(_ error: PostgresConnectionError) {
            state.guarded.withLock { guarded in
                guarded.closedError = error
                guarded.finished = true
            }
            state.notifications.finish()
            connected(.failure(error))
        }
        let session: @Sendable () -> Void = {
            let driver: PostgresConnectionDriver
            do throws(PostgresConnectionError) {
                driver = try open(configuration, state: state, loop: group.next())
            } catch {
                return fail(error)
            }
            driver.loop.execute { driver.attach() }
            connected(.success(driver.backendKey.processID))
        }
        do { try DetachedThread.start(name: "postgres-open", session) } catch {
            fail(.connectFailed(endpoint: "-", reason: "no thread for the session: \(error)"))
        }
    }

    // MARK: Startup

    private static func open(_ configuration: PostgresConfiguration, state: PostgresConnectionState, loop: EventLoop) throws(PostgresConnectionError) -> PostgresConnectionDriver {
        var lastError = PostgresConnectionError.connectFailed(endpoint: "", reason: "no endpoint")
        for endpoint in configuration.endpoints {
            let deadline = configuration.connectTimeout.map(PostgresSocket.deadline(after:))
            do {
                return try open(endpoint, configuration, state: state, deadline: deadline, loop: loop)
            } catch let error {
                switch error {
                case .connectFailed, .connectTimedOut: lastError = error  // libpq: try the next host
                default: throw error
                }
            }
        }
        throw lastError
    }

    private static func open(
        _ endpoint: PostgresEndpoint, _ configuration: PostgresConfiguration, state: PostgresConnectionState, deadline: UInt64?, loop: EventLoop
    ) throws(PostgresConnectionError) -> PostgresConnectionDriver {
        let socket = try PostgresSocket.connect(to: endpoint, deadline: deadline)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        func timedOut(_ error: PostgresConnectionError) -> PostgresConnectionError {
            if let deadline, PostgresSocket.now() >= deadline { return .connectTimedOut(endpoint: endpoint.label) }
            return error
        }
        // A unix socket is never encrypted (libpq does the same, whatever sslmode says).
        if case .tcp(let host, _, _) = endpoint, configuration.sslMode.triesTLSFirst {
            do throws(PostgresConnectionError) {
                try socket.writeAll(try encoded(.sslRequest), deadline: deadline)
                let count = try socket.readSome(into: buffer, deadline: deadline)
                let answer: PostgresSSLResponse?
                do { answer = try PostgresSSLResponse.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) } catch {
                    throw .protocolViolation(error.description)
                }
                if answer == .willingToUseTLS {
                    try socket.startTLS(context: try tlsContext(configuration), serverName: host, deadline: deadline)
                } else if configuration.sslMode.requiresTLS {
                    throw PostgresConnectionError.tlsRefusedByServer(endpoint: endpoint.label)
                }
            } catch {
                throw timedOut(error)
            }
        }
        var startup = PostgresStartup(
            user: configuration.user, password: configuration.password?.text, policy: configuration.authentication, overTLS: socket.tls != nil)
        var decoder = PostgresBackendDecoder()
        do throws(PostgresConnectionError) {
            let message = PostgresFrontendMessage.startup(
                user: configuration.user, database: configuration.database, applicationName: configuration.applicationName, options: configuration.options,
                // The value codec reads timestamps as ISO text in UTC, and strings as UTF-8.
                more: [("client_encoding", "UTF8"), ("DateStyle", "ISO"), ("TimeZone", "UTC")])
            try socket.writeAll(try encoded(message), deadline: deadline)
            while true {
                let count = try socket.readSome(into: buffer, deadline: deadline)
                decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                while let message = try next(&decoder) {
                    switch try startup.receive(message) {
                    case .wait: continue
                    case .send(let reply): try socket.writeAll(try encoded(reply), deadline: deadline)
                    case .ready(let status):
                        guard let key = startup.backendKey else { throw PostgresConnectionError.protocolViolation("no BackendKeyData before ReadyForQuery") }
                        state.guarded.withLock { guarded in
                            guarded.parameters = startup.parameters
                            guarded.transactionStatus = status
                        }
                        return PostgresConnectionDriver(socket: socket, endpoint: endpoint, backendKey: key, state: state, decoder: decoder, loop: loop)
                    }
                }
            }
        } catch {
            throw timedOut(error)
        }
    }

    /// libpq's choice per sslmode: `prefer` and `require` (without sslrootcert) encrypt without
    /// checking the certificate; `verify-ca` checks the chain, `verify-full` the name too.
    private static func tlsContext(_ configuration: PostgresConfiguration) throws(PostgresConnectionError) -> TLSContext {
        let root = configuration.sslRootCertificate
        let tls: TLSConfiguration =
            configuration.sslMode.verifiesChain(rootCertificate: root)
            ? .client(trustSystemRoots: root == nil || root == "system", additionalCAFile: root == "system" ? nil : root, verifyHostname: configuration.sslMode.verifiesHostName)
            : .unverifiedClient
        do { return try TLSContext(tls) } catch { throw .tlsFailed(error.description) }
    }

    private static func encoded(_ message: PostgresFrontendMessage) throws(PostgresConnectionError) -> [UInt8] {
        do { return try message.encoded() } catch { throw .unencodable(error) }
    }

    private static func next(_ decoder: inout PostgresBackendDecoder) throws(PostgresConnectionError) -> PostgresBackendMessage? {
        do { return try decoder.next() } catch { throw .protocolViolation(error.description) }
    }

    // MARK: Running (on the loop's thread)

    /// Joins the loop: from now on callers wake it, and may write on a plain socket themselves.
    private func attach() {
        do { try loop.register(self) } catch {
            return finish(.closed(reason: "epoll: \(error)", serverError: nil))
        }
        let loop = self.loop
        state.guarded.withLock { guarded in
            // Callers may write their own requests on a plain socket while the session is idle.
            if socket.tls == nil { guarded.directFD = socket.fd }
            guarded.waker = { loop.execute { self.pump() } }
        }
        pump()
    }

    func ready(readable: Bool, writable: Bool, hangup: Bool) {
        guard !finished else { return }
        if readable || hangup || (writable && readWantsWritable) || socket.hasBufferedInput {
            if let error = readAvailable() { return finish(error) }
        }
        pump()
    }

    func deadlineExpired(now: UInt64) {
        guard !finished, running != nil, running?.cancelled == nil else { return }
        cancelRunning(.timeout)
    }

    /// Starts what callers asked for (work, cancellations, close), writes what is pending, and
    /// watches the socket accordingly.
    private func pump() {
        guard !finished else { return }
        if let error = takeWork() ?? flush() { return finish(error) }
        let wantsWritable = sent < outbound.count || readWantsWritable
        if wantsWritable != watchingWritable {
            watchingWritable = wantsWritable
            loop.reregister(self, readable: true, writable: wantsWritable)
        }
    }

    /// Starts the next request when none runs, and acts on cancellations and close requests.
    private func takeWork() -> PostgresConnectionError? {
        // In one critical section: a request its caller wrote goes before any queued after it
        // (adopting it outside would let a queued one take its place, and its reply).
        let (closeRequested, cancelled, next, adopted) = state.guarded.withLock { guarded -> (Bool, Bool, PostgresConnectionState.Request?, PostgresConnectionState.Request?) in
            let adopted = running == nil ? guarded.sentDirectly : nil
            if adopted != nil { guarded.sentDirectly = nil }
            let current = running?.request ?? adopted
            let cancelled = current.map { guarded.cancelled.remove($0.id) != nil } ?? false
            let next = current == nil && !cancelling && !guarded.queue.isEmpty ? guarded.queue.removeFirst() : nil
            guarded.sessionIdle = current == nil && next == nil && outbound.isEmpty && !cancelling
            return (guarded.closing, cancelled, next, adopted)
        }
        if let adopted { adopt(adopted) }
        if closeRequested { return .closed(reason: "closed by the client", serverError: nil) }
        if cancelled, running?.cancelled == nil { cancelRunning(.task) }
        if let next {
            if let deadline = next.deadline, PostgresSocket.now() >= deadline {
                next.reply.resume(returning: .failure(PostgresConnectionError.queryTimedOut(nil)))
                return takeWork()
            }
            running = Running(request: next)
            outbound.append(contentsOf: next.bytes)
        }
        return nil
    }

    /// Takes over the request a caller wrote itself (`PostgresConnectionState.submit`) while this
    /// session was idle, with whatever part of it the socket did not take.
    private func adoptSentDirectly() {
        guard running == nil else { return }
        let adopted = state.guarded.withLock { guarded -> PostgresConnectionState.Request? in
            defer { guarded.sentDirectly = nil }
            return guarded.sentDirectly
        }
        if let adopted { adopt(adopted) }
    }

    /// Runs `request`, which its caller wrote itself, with what the socket did not take of it.
    private func adopt(_ request: PostgresConnectionState.Request) {
        running = Running(request: request)
        outbound.append(contentsOf: request.bytes)
    }

    private func flush() -> PostgresConnectionError? {
        while sent < outbound.count {
            let result = outbound.withUnsafeBytes { socket.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .bytes(let n): sent += n
            case .wouldBlock: return nil
            case .closed: return .closed(reason: "the server closed the connection", serverError: fatal)
            case .failed(let reason): return .closed(reason: reason, serverError: fatal)
            }
        }
        outbound.removeAll(keepingCapacity: outbound.capacity <= 1 << 16)
        sent = 0
        return nil
    }

    /// Reads until the socket would block, so nothing is left in OpenSSL's buffer either (epoll
    /// cannot see decrypted bytes it holds).
    private func readAvailable() -> PostgresConnectionError? {
        repeat {
            switch socket.read(into: loop.readBuffer) {
            case .bytes(let n):
                decoder.append(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<n]))
                do {
                    while let message = try decoder.next() {
                        if let error = handle(message) { return error }
                    }
                } catch {
                    return .protocolViolation(error.description)
                }
            case .wouldBlock(let wantsWritable):
                readWantsWritable = wantsWritable
                return nil
            case .closed: return .closed(reason: "the server closed the connection", serverError: fatal)
            case .failed(let reason): return .closed(reason: reason, serverError: fatal)
            }
        } while true
    }

    private func handle(_ message: PostgresBackendMessage) -> PostgresConnectionError? {
        switch message {
        case .notification(let notification):
            state.notifications.yield(notification)
            return nil
        case .noticeResponse:
            return nil  // warnings about the session; nothing here acts on them
        case .parameterStatus(let name, let value):
            state.guarded.withLock { $0.parameters[name] = value }
            return nil
        case .errorResponse(let error) where ["FATAL", "PANIC"].contains(error.severity):
            // The server closes the socket right after; the close reports this error.
            fatal = error
            return nil
        default: break
        }
        // The reply to a request its caller wrote while the session was idle.
        if running == nil { adoptSentDirectly() }
        guard var current = running else { return .protocolViolation("a \(message) with no query running") }
        // Rows describe the statement after those already complete.
        if case .rowDescription(let columns) = message, current.collector.results.count < current.request.statements.count {
            state.remember(columns: columns, of: current.request.statements[current.collector.results.count])
        }
        let status: PostgresTransactionStatus?
        do { status = try current.collector.receive(message) } catch { return error }
        guard let status else {
            running = current
            return nil
        }
        running = nil
        state.guarded.withLock { guarded in
            guarded.transactionStatus = status
            guarded.cancelled.remove(current.request.id)  // a cancel that came too late
            // Idle before the caller hears back, so that its next query can go directly.
            guarded.sessionIdle = guarded.queue.isEmpty && outbound.isEmpty && guarded.sentDirectly == nil && !cancelling
        }
        current.request.reply.resume(returning: outcome(of: current))
        return nil
    }

    private func outcome(of finished: Running) -> Result<[PostgresQueryResult], any Error> {
        guard let failure = finished.collector.failure else { return .success(finished.collector.results) }
        if let error = failure as? PostgresError, error.sqlState == .queryCanceled, let reason = finished.cancelled {
            return .failure(reason == .timeout ? PostgresConnectionError.queryTimedOut(error) : PostgresConnectionError.queryCancelled(error))
        }
        return .failure(failure)
    }

    /// Asks the server, on a new connection, to cancel what this session runs (protocol-flow
    /// §"Canceling Requests in Progress"). Best effort: the query's own replies say what happened.
    /// The connect and exchange block, so they run on a thread of their own; nothing else is
    /// written on this session until the server has closed the cancel socket (it has signalled the
    /// backend by then), so a cancel can never land on the next query. Like libpq's PQcancel it
    /// is sent in the clear, even when the session uses TLS.
    private func cancelRunning(_ reason: CancelReason) {
        running?.cancelled = reason
        cancelling = true
        state.guarded.withLock { $0.sessionIdle = false }
        let (endpoint, processID, secretKey) = (endpoint, backendKey.processID, backendKey.secretKey)
        let done: @Sendable () -> Void = { [loop] in
            loop.execute {
                self.cancelling = false
                self.pump()
            }
        }
        do {
            try DetachedThread.start(name: "postgres-cancel") {
                Self.sendCancel(to: endpoint, processID: processID, secretKey: secretKey)
                done()
            }
        } catch {
            done()
        }
    }

    private static func sendCancel(to endpoint: PostgresEndpoint, processID: Int32, secretKey: Int32) {
        let deadline = PostgresSocket.deadline(after: .seconds(5))
        guard let cancel = try? PostgresSocket.connect(to: endpoint, deadline: deadline),
            let request = try? PostgresFrontendMessage.cancelRequest(processID: processID, secretKey: secretKey).encoded()
        else { return }
        try? cancel.writeAll(request, deadline: deadline)
        // The server closes the socket once it has read the request.
        var scratch = [UInt8](repeating: 0, count: 64)
        _ = scratch.withUnsafeMutableBytes { try? cancel.readSome(into: $0, deadline: deadline) }
    }

    /// Ends the session: Terminate when we close it, then every waiting caller hears `error`.
    private func finish(_ error: PostgresConnectionError) {
        guard !finished else { return }
        finished = true
        // No caller writes on the socket from now on (it is about to close), nor wakes the loop for it.
        state.guarded.withLock { guarded in
            guarded.directFD = nil
            guarded.sessionIdle = false
            guarded.waker = nil
        }
        adoptSentDirectly()
        // Terminate in one try, without waiting: it is five bytes on a socket with nothing unsent
        // (a server that stopped reading is ended by the FIN below anyway).
        if case .closed(let reason, _) = error, reason == "closed by the client", sent == outbound.count,
            let terminate = try? PostgresFrontendMessage.terminate.encoded()
        {
            _ = terminate.withUnsafeBytes { socket.write($0) }
        }
        socket.shutdownOutput()
        loop.deregister(self)
        let (queue, waiters) = state.guarded.withLock { guarded in
            guarded.closedError = error
            guarded.finished = true
            defer { (guarded.queue, guarded.closeWaiters) = ([], []) }
            return (guarded.queue, guarded.closeWaiters)
        }
        running?.request.reply.resume(returning: .failure(error))
        running = nil
        for request in queue { request.reply.resume(returning: .failure(error)) }
        state.notifications.finish()
        for waiter in waiters { waiter.resume() }
    }
}
