/// What a `TLSContext` is built from: a server identity, or a client's trust and checks.
///
/// Whatever the role, the context refuses anything below TLS 1.2 (RFC 8996 deprecates
/// TLS 1.0 and 1.1), keeps OpenSSL's default cipher suites, and turns renegotiation off.
public struct TLSConfiguration: Sendable, Equatable {
    public enum Role: Sendable, Equatable {
        /// A listener presenting `certificateChainFile` (PEM, leaf first, then intermediates)
        /// with the PEM `privateKeyFile` that belongs to the leaf.
        case server(certificateChainFile: String, privateKeyFile: String)
        /// A client that verifies the server's chain against the system roots and/or
        /// `additionalCAFile`, and (when `verifyHostname`) the name it connected to.
        case client(trustSystemRoots: Bool, additionalCAFile: String?, verifyHostname: Bool)
        /// A client that encrypts without checking who answers: libpq's `sslmode=require`
        /// (protects against passive eavesdropping only). Never used for HTTP.
        case unverifiedClient
    }

    public let role: Role

    public static func server(certificateChainFile: String, privateKeyFile: String) -> TLSConfiguration {
        TLSConfiguration(role: .server(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile))
    }

    /// `trustSystemRoots` uses OpenSSL's default verify paths; on Debian those resolve to
    /// /etc/ssl/certs/ca-certificates.crt (via /usr/lib/ssl/cert.pem) and /etc/ssl/certs,
    /// and `SSL_CERT_FILE` / `SSL_CERT_DIR` override them.
    public static func client(
        trustSystemRoots: Bool = true, additionalCAFile: String? = nil, verifyHostname: Bool = true
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client(
                trustSystemRoots: trustSystemRoots, additionalCAFile: additionalCAFile, verifyHostname: verifyHostname))
    }

    public static let unverifiedClient = TLSConfiguration(role: .unverifiedClient)

    var isServer: Bool {
        if case .server = role { return true }
        return false
    }
}
