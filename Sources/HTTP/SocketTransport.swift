#if canImport(Glibc)
    import Glibc
#endif

/// What one non-blocking read or write on a connection did.
enum TransportResult: Equatable {
    case bytes(Int)
    /// Nothing now; `wantsWritable` when TLS needs the socket writable to make progress.
    case wouldBlock(wantsWritable: Bool)
    /// Orderly end of stream (FIN or TLS close_notify).
    case closed
    case failed(String)
}

/// A connected non-blocking socket, in the clear or through a TLS session; used by one loop thread.
enum SocketTransport {
    case plain(Int32)
    case tls(Int32, TLSSession)

    var fd: Int32 {
        switch self {
        case .plain(let fd), .tls(let fd, _): fd
        }
    }

    /// Decrypted bytes OpenSSL holds that epoll cannot report: read again before waiting.
    var hasBufferedInput: Bool {
        if case .tls(_, let session) = self { return session.pendingBytes > 0 }
        return false
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        switch self {
        case .plain(let fd):
            do {
                switch try Syscall.read(fd, buffer) {
                case .wouldBlock: return .wouldBlock(wantsWritable: false)
                case .done(0): return .closed
                case .done(let n): return .bytes(n)
                }
            } catch {
                return error.errno == ECONNRESET ? .closed : .failed(error.description)
            }
        case .tls(_, let session):
            return TransportResult(session.read(into: buffer))
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        switch self {
        case .plain(let fd):
            do {
                switch try Syscall.send(fd, bytes) {
                case .wouldBlock: return .wouldBlock(wantsWritable: true)
                case .done(let n): return .bytes(n)
                }
            } catch {
                return .failed(error.description)
            }
        case .tls(_, let session):
            let result = TransportResult(session.write(bytes))
            if case .wouldBlock = result { return .wouldBlock(wantsWritable: true) }
            return result
        }
    }

    /// Sends what it can of TLS close_notify, then FIN: the peer sees an orderly end.
    func shutdownOutput() {
        if case .tls(_, let session) = self { session.shutdown() }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}

extension TransportResult {
    init(_ result: TLSIOResult) {
        switch result {
        case .bytes(let n): self = .bytes(n)
        case .wantRead: self = .wouldBlock(wantsWritable: false)
        case .wantWrite: self = .wouldBlock(wantsWritable: true)
        case .closed: self = .closed
        case .failed(let error): self = .failed(error.description)
        }
    }
}
