import COpenSSL

/// An error from the TLS layer: what kind of step failed, which OpenSSL call failed, and
/// OpenSSL's own explanation. It never carries key material: only file paths, call names
/// and OpenSSL's reason strings.
///
/// A struct around a private set of kinds (async-http-client's `HTTPClientError` pattern),
/// so kinds can be added without breaking callers. Compare kinds, not whole errors:
/// `error.kind == .certificateVerificationFailed`.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case contextSetupFailed, certificateLoadFailed, privateKeyMismatch
            case sessionSetupFailed, handshakeFailed, certificateVerificationFailed, ioFailed
        }
        private let base: Base

        /// Creating or configuring the SSL_CTX failed (e.g. no trust anchors, bad CA store).
        public static let contextSetupFailed = Kind(base: .contextSetupFailed)
        /// A certificate chain, private key or CA file could not be read or parsed.
        public static let certificateLoadFailed = Kind(base: .certificateLoadFailed)
        /// The server's private key does not belong to its certificate.
        public static let privateKeyMismatch = Kind(base: .privateKeyMismatch)
        /// Creating the per-connection SSL object, or setting its SNI / expected host, failed.
        public static let sessionSetupFailed = Kind(base: .sessionSetupFailed)
        /// The handshake failed for a reason other than our verification of the peer.
        public static let handshakeFailed = Kind(base: .handshakeFailed)
        /// We refused the peer's certificate (untrusted issuer, hostname or IP mismatch, expired…).
        public static let certificateVerificationFailed = Kind(base: .certificateVerificationFailed)
        /// Reading or writing application data failed after the handshake.
        public static let ioFailed = Kind(base: .ioFailed)

        public var description: String {
            switch base {
            case .contextSetupFailed: "TLS context setup failed"
            case .certificateLoadFailed: "certificate load failed"
            case .privateKeyMismatch: "private key does not match certificate"
            case .sessionSetupFailed: "TLS session setup failed"
            case .handshakeFailed: "TLS handshake failed"
            case .certificateVerificationFailed: "certificate verification failed"
            case .ioFailed: "TLS I/O failed"
            }
        }
    }

    public let kind: Kind
    /// The OpenSSL call (or our own step) that failed, e.g. `SSL_CTX_use_PrivateKey_file`.
    public let operation: String
    /// OpenSSL's error queue as `ERR_error_string_n` renders it, oldest first, joined by "; ";
    /// or our own words (errno text, "unexpected EOF") when OpenSSL queued nothing.
    public let reason: String
    /// For `.certificateVerificationFailed`: `X509_verify_cert_error_string` of the
    /// verification result, e.g. "hostname mismatch", "unable to get local issuer certificate".
    public let verificationFailure: String?

    init(_ kind: Kind, operation: String, reason: String, verificationFailure: String? = nil) {
        self.kind = kind
        self.operation = operation
        self.reason = reason
        self.verificationFailure = verificationFailure
    }

    public var description: String {
        var text = "\(kind) in \(operation)"
        if let verificationFailure { text += ": \(verificationFailure)" }
        if !reason.isEmpty { text += " (\(reason))" }
        return text
    }
}

extension TLSError {
    /// Builds an error from whatever OpenSSL queued on this thread, and empties the queue.
    static func fromErrorQueue(_ kind: Kind, operation: String, fallback: String = "") -> TLSError {
        let queue = OpenSSLErrorQueue.drain()
        return TLSError(kind, operation: operation, reason: queue.text.isEmpty ? fallback : queue.text)
    }
}

/// OpenSSL's per-thread error queue. TLS calls clear it before they run (`ERR_clear_error`)
/// so whatever is drained afterwards belongs to that call and no stale error is misattributed.
enum OpenSSLErrorQueue {
    struct Drained {
        var codes: [UInt] = []
        var text: String { codes.map(render).joined(separator: "; ") }

        func contains(library: Int32, reason: Int32) -> Bool {
            codes.contains { copenssl_err_get_lib($0) == library && copenssl_err_get_reason($0) == reason }
        }
    }

    static func drain() -> Drained {
        var drained = Drained()
        while case let code = ERR_get_error(), code != 0 { drained.codes.append(code) }
        return drained
    }

    private static func render(_ code: UInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            ERR_error_string_n(code, buffer.baseAddress, buffer.count)
            return String(cString: buffer.baseAddress!)
        }
    }
}

/// `strerror` text for an errno value, e.g. "Connection reset by peer".
func errnoDescription(_ code: Int32) -> String {
    "errno \(code): " + String(cString: strerror(code))
}
