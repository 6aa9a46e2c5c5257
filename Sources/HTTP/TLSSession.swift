import COpenSSL
import Glibc

/// Where a handshake step left the session.
public enum TLSHandshakeResult: Equatable, Sendable {
    case complete
    /// Call `handshake()` again once the socket is readable.
    case wantRead
    /// Call `handshake()` again once the socket is writable.
    case wantWrite
    case failed(TLSError)
}

/// The outcome of one `read` or `write`.
public enum TLSIOResult: Equatable, Sendable {
    case bytes(Int)
    /// Retry the same call once the socket is readable (TLS may need to read to write).
    case wantRead
    /// Retry the same call once the socket is writable (TLS may need to write to read).
    case wantWrite
    /// The peer sent close_notify, or the transport reached EOF.
    case closed
    case failed(TLSError)
}

/// One TLS connection (an OpenSSL `SSL*`) over an already connected, non-blocking socket.
///
/// Every method returns at once: `.wantRead`/`.wantWrite` tell the event loop what to wait
/// for, then it retries the same call (for `write`, with the same bytes: OpenSSL may hold
/// part of a record). Nothing throws through C; failures come back as values.
///
/// Thread confinement: one event-loop thread uses a session at a time, hence not `Sendable`.
/// Moving it between threads between calls is fine: every call clears OpenSSL's
/// thread-local error queue first, so no stale error of another call is misattributed.
///
/// The socket stays the caller's: `close()`/`deinit` free the `SSL*`, never the fd.
public final class TLSSession {
    private(set) var ssl: OpaquePointer?  // internal for tests that pin protocol versions
    /// After a fatal error OpenSSL forbids SSL_shutdown (it would be another protocol error).
    private var hadFatalError = false

    private init(context: TLSContext, fd: Int32) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw .fromErrorQueue(.sessionSetupFailed, operation: "SSL_new")
        }
        self.ssl = ssl  // deinit frees it if a later setup step throws
        guard SSL_set_fd(ssl, fd) == 1 else {
            throw .fromErrorQueue(.sessionSetupFailed, operation: "SSL_set_fd")
        }
    }

    deinit { close() }

    /// A client session that sends SNI for `serverName` and, when the context verifies
    /// hostnames, accepts only a certificate for that DNS name or IP address.
    /// `serverName` may be a DNS name, an IPv4 literal or an IPv6 literal (brackets allowed).
    public static func client(context: TLSContext, fd: Int32, serverName: String) throws(TLSError) -> TLSSession {
        guard !context.isServer else {
            throw TLSError(.sessionSetupFailed, operation: "TLSSession.client", reason: "the context is a server context")
        }
        let host = bareHost(serverName)
        guard !host.isEmpty, !host.utf8.contains(0) else {
            // An empty name would silently disable the hostname check; a NUL would truncate it.
            throw TLSError(
                .sessionSetupFailed, operation: "TLSSession.client",
                reason: "server name is empty or contains NUL")
        }
        let session = try TLSSession(context: context, fd: fd)
        let ssl = session.ssl!
        SSL_set_connect_state(ssl)
        if isIPAddressLiteral(host) {
            // RFC 6066 §3: SNI carries DNS names only, so an IP literal sends none.
            if context.verifiesHostname {
                guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                    throw .fromErrorQueue(.sessionSetupFailed, operation: "X509_VERIFY_PARAM_set1_ip_asc(\(host))")
                }
            }
        } else {
            guard copenssl_set_tlsext_host_name(ssl, host) == 1 else {
                throw .fromErrorQueue(.sessionSetupFailed, operation: "SSL_set_tlsext_host_name(\(host))")
            }
            if context.verifiesHostname {
                // RFC 6125 §6.4.3: a wildcard stands for a whole left-most label, never part of one.
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                guard SSL_set1_host(ssl, host) == 1 else {
                    throw .fromErrorQueue(.sessionSetupFailed, operation: "SSL_set1_host(\(host))")
                }
            }
        }
        return session
    }

    /// A server session presenting the context's certificate chain.
    public static func server(context: TLSContext, fd: Int32) throws(TLSError) -> TLSSession {
        guard context.isServer else {
            throw TLSError(.sessionSetupFailed, operation: "TLSSession.server", reason: "the context is a client context")
        }
        let session = try TLSSession(context: context, fd: fd)
        SSL_set_accept_state(session.ssl!)
        return session
    }

    // MARK: Handshake and I/O

    public func handshake() -> TLSHandshakeResult {
        guard let ssl else { return .failed(Self.sessionClosed("SSL_do_handshake")) }
        ERR_clear_error()
        let status = SSL_do_handshake(ssl)
        if status == 1 { return .complete }
        let savedErrno = errno
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case let sslError:
            hadFatalError = true
            let verifyResult = SSL_get_verify_result(ssl)
            if verifyResult != Int(X509_V_OK) {
                let queue = OpenSSLErrorQueue.drain()
                return .failed(
                    TLSError(
                        .certificateVerificationFailed, operation: "SSL_do_handshake",
                        reason: queue.text,
                        verificationFailure: String(cString: X509_verify_cert_error_string(verifyResult))))
            }
            return .failed(
                Self.failure(
                    .handshakeFailed, "SSL_do_handshake", sslError: sslError, errno: savedErrno,
                    eofReason: "peer closed the connection during the handshake"))
        }
    }

    /// Reads decrypted bytes into `buffer`. `.bytes(0)` only for an empty buffer.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        guard let ssl else { return .failed(Self.sessionClosed("SSL_read_ex")) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        var count = 0
        let status = SSL_read_ex(ssl, base, buffer.count, &count)
        if status == 1 { return .bytes(count) }
        return ioFailure(ssl, "SSL_read_ex", status: status, errno: errno)
    }

    /// Encrypts and sends a prefix of `bytes`; `.bytes(n)` may be less than `bytes.count`
    /// (partial writes are on). After `.wantRead`/`.wantWrite`, retry with the same bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) -> TLSIOResult {
        guard let ssl else { return .failed(Self.sessionClosed("SSL_write_ex")) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        var count = 0
        let status = SSL_write_ex(ssl, base, bytes.count, &count)
        if status == 1 { return .bytes(count) }
        return ioFailure(ssl, "SSL_write_ex", status: status, errno: errno)
    }

    /// Decrypted bytes OpenSSL already holds: read them before waiting for the socket again,
    /// since epoll will not report data that has left the kernel.
    public var pendingBytes: Int {
        guard let ssl else { return 0 }
        return Int(SSL_pending(ssl))
    }

    /// Sends our close_notify if the socket takes it now. Best effort and non-blocking: it
    /// does not wait for the peer's (RFC 8446 §6.1 allows closing without it). Returns
    /// whether close_notify went out (or was already exchanged).
    @discardableResult
    public func shutdown() -> Bool {
        guard let ssl, !hadFatalError, SSL_is_init_finished(ssl) == 1 else { return false }
        ERR_clear_error()
        let status = SSL_shutdown(ssl)
        ERR_clear_error()  // best effort: leave nothing behind for the next call on this thread
        return status >= 0
    }

    /// Frees the `SSL*` (not the socket). Idempotent; later calls report a closed session.
    public func close() {
        if let ssl { SSL_free(ssl) }
        ssl = nil
    }

    // MARK: Connection facts

    public var isHandshakeComplete: Bool {
        guard let ssl else { return false }
        return SSL_is_init_finished(ssl) == 1
    }

    /// The negotiated protocol, e.g. "TLSv1.3".
    public var protocolVersion: String? {
        guard let ssl, SSL_is_init_finished(ssl) == 1 else { return nil }
        return String(cString: SSL_get_version(ssl))
    }

    /// On a server session: the SNI name the client asked for, if any.
    public var requestedServerName: String? {
        guard let ssl, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    // MARK: Failures

    private func ioFailure(_ ssl: OpaquePointer, _ operation: String, status: Int32, errno savedErrno: Int32) -> TLSIOResult {
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0 && savedErrno == 0:
            return .closed  // EOF without close_notify (kept for safety; the context maps it to ZERO_RETURN)
        case let sslError:
            hadFatalError = true
            return .failed(
                Self.failure(
                    .ioFailed, operation, sslError: sslError, errno: savedErrno,
                    eofReason: "peer closed the connection"))
        }
    }

    private static func failure(
        _ kind: TLSError.Kind, _ operation: String, sslError: Int32, errno savedErrno: Int32, eofReason: String
    ) -> TLSError {
        let fallback: String
        switch sslError {
        case SSL_ERROR_ZERO_RETURN: fallback = eofReason
        case SSL_ERROR_SYSCALL: fallback = savedErrno == 0 ? eofReason : errnoDescription(savedErrno)
        default: fallback = "SSL_get_error \(sslError)"
        }
        return .fromErrorQueue(kind, operation: operation, fallback: fallback)
    }

    private static func sessionClosed(_ operation: String) -> TLSError {
        TLSError(.ioFailed, operation: operation, reason: "the TLS session was closed")
    }
}

/// "[::1]" → "::1", "example.com." → "example.com": the forms SNI and name checks compare.
private func bareHost(_ serverName: String) -> String {
    var host = Substring(serverName)
    if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
    if host.hasSuffix(".") { host = host.dropLast() }
    return String(host)
}

private func isIPAddressLiteral(_ host: String) -> Bool {
    var address = in6_addr()  // large enough for either family
    return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
}
