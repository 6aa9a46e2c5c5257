#if canImport(Glibc)
    import Glibc
#endif
import HTTP

/// The connection's own thread: opens the session, then runs requests one at a time and reads
/// whatever the server sends, until either side closes. Everything here is confined to that
/// thread; it meets callers only through `PostgresConnectionState`.
final class PostgresConnectionDriver {
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
    private var decoder: PostgresBackendDecoder
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var outbound: [UInt8] = []
    private var sent = 0
    private var running: Running?
    /// The last FATAL the server sent: why it is about to close the socket.
    private var fatal: PostgresError?
    /// TLS needs the socket writable before it can read on (e.g. to answer a KeyUpdate).
    private var readWantsWritable = false

    private init(socket: PostgresSocket, endpoint: PostgresEndpoint, backendKey: (Int32, Int32), state: PostgresConnectionState, decoder: PostgresBackendDecoder) {
        (self.socket, self.endpoint, self.backendKey, self.state, self.decoder) = (socket, endpoint, backendKey, state, decoder)
    }

    deinit { buffer.deallocate() }

    /// Starts the thread; `connected` gets the backend's process id or why the session failed.
    static func start(configuration: PostgresConfiguration, state: PostgresConnectionState, connected: @escaping @Sendable (Result<Int32, PostgresConnectionError>) -> Void) {
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
                driver = try open(configuration, state: state)
            } catch {
                return fail(error)
            }
            connected(.success(driver.backendKey.processID))
            driver.run()
        }
        do { try DetachedThread.start(name: "postgres", session) } catch {
            fail(.connectFailed(endpoint: "-", reason: "no thread for the session: \(error)"))
        }
    }

    // MARK: Startup

    private static func open(_ configuration: PostgresConfiguration, state: PostgresConnectionState) throws(PostgresConnectionError) -> PostgresConnectionDriver {
        var lastError = PostgresConnectionError.connectFailed(endpoint: "", reason: "no endpoint")
        for endpoint in configuration.endpoints {
            let deadline = configuration.connectTimeout.map(PostgresSocket.deadline(after:))
            do {
                return try open(endpoint, configuration, state: state, deadline: deadline)
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
        _ endpoint: PostgresEndpoint, _ configuration: PostgresConfiguration, state: PostgresConnectionState, deadline: UInt64?
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
                        return PostgresConnectionDriver(socket: socket, endpoint: endpoint, backendKey: key, state: state, decoder: decoder)
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

    // MARK: Running

    private func run() {
        // Callers may write their own requests on a plain socket while this thread is idle.
        if socket.tls == nil { state.guarded.withLock { $0.directFD = socket.fd } }
        var closing: PostgresConnectionError?
        while closing == nil {
            closing = takeWork() ?? flush() ?? pollOnce()
        }
        finish(closing!)
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
            let next = current == nil && !guarded.queue.isEmpty ? guarded.queue.removeFirst() : nil
            guarded.threadIdle = current == nil && next == nil && outbound.isEmpty
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
    /// thread was idle, with whatever part of it the socket did not take.
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

    /// Waits for the socket, a wake-up or the running query's deadline, then handles what came.
    private func pollOnce() -> PostgresConnectionError? {
        let deadline = running?.cancelled == nil ? running?.request.deadline : nil
        var fds = [
            pollfd(fd: socket.fd, events: Int16(POLLIN) | (sent < outbound.count || readWantsWritable ? Int16(POLLOUT) : 0), revents: 0),
            pollfd(fd: state.wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        let timeout = socket.hasBufferedInput ? 0 : PostgresSocket.timeoutMilliseconds(until: deadline)
        let rc = poll(&fds, 2, timeout)
        if rc < 0 && errno != EINTR { return .closed(reason: "poll: \(PostgresSocket.errnoText())", serverError: nil) }
        if fds[1].revents != 0 {
            var drained = [UInt8](repeating: 0, count: 64)
            while Glibc.read(state.wakeFD, &drained, drained.count) == drained.count {}
        }
        let writableForRead = readWantsWritable && fds[0].revents & Int16(POLLOUT) != 0
        if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 || writableForRead || socket.hasBufferedInput {
            if let error = readAvailable() { return error }
        }
        if let deadline, PostgresSocket.now() >= deadline, running?.cancelled == nil { cancelRunning(.timeout) }
        return nil
    }

    private func readAvailable() -> PostgresConnectionError? {
        repeat {
            switch socket.read(into: buffer) {
            case .bytes(let n):
                decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
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
        // The reply to a request its caller wrote while this thread slept.
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
            guarded.threadIdle = guarded.queue.isEmpty && outbound.isEmpty && guarded.sentDirectly == nil
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
    /// It runs to the end (the server closes the cancel socket once it has signalled the backend)
    /// before this thread writes anything else, so a cancel can never land on the next query.
    /// Like libpq's PQcancel it is sent in the clear, even when the session uses TLS.
    private func cancelRunning(_ reason: CancelReason) {
        running?.cancelled = reason
        let deadline = PostgresSocket.deadline(after: .seconds(5))
        guard let cancel = try? PostgresSocket.connect(to: endpoint, deadline: deadline),
            let request = try? PostgresFrontendMessage.cancelRequest(processID: backendKey.processID, secretKey: backendKey.secretKey).encoded()
        else { return }
        try? cancel.writeAll(request, deadline: deadline)
        // The server closes the socket once it has read the request.
        _ = try? cancel.readSome(into: buffer, deadline: deadline)
    }

    /// Ends the session: Terminate when we close it, then every waiting caller hears `error`.
    private func finish(_ error: PostgresConnectionError) {
        // No caller writes on the socket from now on (it is about to close).
        state.guarded.withLock { guarded in
            guarded.directFD = nil
            guarded.threadIdle = false
        }
        adoptSentDirectly()
        if case .closed(let reason, _) = error, reason == "closed by the client", let terminate = try? PostgresFrontendMessage.terminate.encoded() {
            try? socket.writeAll(terminate, deadline: PostgresSocket.deadline(after: .seconds(1)))
        }
        socket.shutdownOutput()
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
