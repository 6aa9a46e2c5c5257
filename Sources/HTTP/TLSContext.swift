import COpenSSL

/// One configured OpenSSL `SSL_CTX`, shared by every connection of a listener or a client.
///
/// `@unchecked Sendable` without a lock because OpenSSL documents an `SSL_CTX` as safe to
/// share between threads once configured: `init` configures it completely and nothing
/// mutates it afterwards; each connection's `SSL_new` only takes a reference.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    let isServer: Bool
    /// Whether client sessions check the peer's name (`SSL_set1_host` / IP SAN).
    let verifiesHostname: Bool

    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(configuration.isServer ? TLS_server_method() : TLS_client_method()) else {
            throw .fromErrorQueue(.contextSetupFailed, operation: "SSL_CTX_new")
        }
        var verifiesHostname = false
        do throws(TLSError) {
            try Self.applyProtocolPolicy(context)
            switch configuration.role {
            case .server(let chainFile, let keyFile):
                try Self.loadIdentity(context, chainFile: chainFile, keyFile: keyFile)
            case .client(let trustSystemRoots, let additionalCAFile, let verifyHostname):
                try Self.loadTrust(context, trustSystemRoots: trustSystemRoots, additionalCAFile: additionalCAFile)
                verifiesHostname = verifyHostname
            case .unverifiedClient:
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        pointer = context
        isServer = configuration.isServer
        self.verifiesHostname = verifiesHostname
    }

    deinit { SSL_CTX_free(pointer) }

    /// The lowest protocol version this context negotiates (always TLS 1.2).
    var minimumProtocolVersion: Int {
        Int(copenssl_ctx_get_min_proto_version(pointer))
    }

    private static func applyProtocolPolicy(_ context: OpaquePointer) throws(TLSError) {
        // RFC 8996: TLS 1.0 and 1.1 are deprecated; never negotiate below 1.2.
        guard copenssl_ctx_set_min_proto_version(context, copenssl_tls1_2_version()) == 1 else {
            throw .fromErrorQueue(.contextSetupFailed, operation: "SSL_CTX_set_min_proto_version")
        }
        // No renegotiation (a DoS and injection surface). An EOF without close_notify reads as
        // a clean close: HTTP framing (Content-Length / chunked, RFC 9112 §8) detects truncation.
        SSL_CTX_set_options(context, UInt64(copenssl_op_no_renegotiation() | copenssl_op_ignore_unexpected_eof()))
        // Partial writes + moving buffers suit non-blocking sockets; releasing the read/write
        // buffers of idle connections keeps 10,000 idle connections small.
        _ = copenssl_ctx_set_mode(context, copenssl_mode_partial_write_moving_buffer())
    }

    private static func loadIdentity(_ context: OpaquePointer, chainFile: String, keyFile: String) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(context, chainFile) == 1 else {
            throw .fromErrorQueue(.certificateLoadFailed, operation: "SSL_CTX_use_certificate_chain_file(\(chainFile))")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            // OpenSSL 3 refuses a key of the leaf's type that does not match it right here.
            let queue = OpenSSLErrorQueue.drain()
            let mismatch = queue.contains(library: ERR_LIB_X509, reason: X509_R_KEY_VALUES_MISMATCH)
            throw TLSError(
                mismatch ? .privateKeyMismatch : .certificateLoadFailed,
                operation: "SSL_CTX_use_PrivateKey_file(\(keyFile))", reason: queue.text)
        }
        // A key of another type lands in another slot; this catches that case too.
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .fromErrorQueue(.privateKeyMismatch, operation: "SSL_CTX_check_private_key")
        }
        // Resumption still works through stateless tickets; no per-context session cache
        // grows with the number of clients.
        _ = copenssl_ctx_set_session_cache_mode(context, copenssl_sess_cache_off())
    }

    private static func loadTrust(
        _ context: OpaquePointer, trustSystemRoots: Bool, additionalCAFile: String?
    ) throws(TLSError) {
        guard trustSystemRoots || additionalCAFile != nil else {
            throw TLSError(
                .contextSetupFailed, operation: "TLSContext.init",
                reason: "a client needs trustSystemRoots or an additionalCAFile to verify servers")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if trustSystemRoots {
            // Debian: /usr/lib/ssl/cert.pem -> /etc/ssl/certs/ca-certificates.crt, plus /etc/ssl/certs.
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .fromErrorQueue(.contextSetupFailed, operation: "SSL_CTX_set_default_verify_paths")
            }
            ERR_clear_error()  // missing optional default locations queue harmless errors
        }
        if let additionalCAFile {
            guard SSL_CTX_load_verify_locations(context, additionalCAFile, nil) == 1 else {
                throw .fromErrorQueue(.certificateLoadFailed, operation: "SSL_CTX_load_verify_locations(\(additionalCAFile))")
            }
        }
    }
}
