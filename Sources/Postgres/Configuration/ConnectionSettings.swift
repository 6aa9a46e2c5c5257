/// One server to try.
public enum PostgresEndpoint: Sendable, Equatable {
    /// `host` is the name TLS verifies (`verify-full`); `address` is libpq's `hostaddr`, a numeric
    /// address connected to instead of resolving `host`.
    case tcp(host: String, address: String?, port: Int)
    /// The server's socket `<directory>/.s.PGSQL.<port>`. libpq never uses TLS on one.
    case unixSocket(directory: String, port: Int)

    public var port: Int {
        switch self {
        case .tcp(_, _, let port), .unixSocket(_, let port): port
        }
    }

    /// The socket file for `unixSocket`, nil for TCP.
    public var socketPath: String? {
        guard case .unixSocket(let directory, let port) = self else { return nil }
        return (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    var hostDescription: String {
        switch self {
        case .tcp(let host, _, _): host
        case .unixSocket(let directory, _): directory
        }
    }
}

/// libpq's `sslmode`. This client does what libpq does for each:
/// - `disable`: plaintext only.
/// - `allow`: plaintext first; TLS only if the server refuses the plaintext connection.
/// - `prefer` (the default): TLS if the server accepts SSLRequest, else plaintext.
/// - `require`: TLS, any certificate; with an explicit `sslrootcert` it is `verify-ca`, as in libpq.
/// - `verify-ca`: TLS with the chain checked against the roots, not the host name.
/// - `verify-full`: TLS with the chain and the host name checked.
/// None applies to a unix socket, which is never encrypted.
public enum SSLMode: String, Sendable, CaseIterable {
    case disable, allow, prefer, require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"

    /// Whether the first attempt sends SSLRequest.
    public var triesTLSFirst: Bool { self != .disable && self != .allow }
    /// Whether a connection without TLS is refused.
    public var requiresTLS: Bool { self == .require || self == .verifyCA || self == .verifyFull }
    /// Whether the certificate chain must lead to a trusted root; `rootCertificate` is `sslrootcert`.
    public func verifiesChain(rootCertificate: String?) -> Bool {
        self == .verifyCA || self == .verifyFull || (self == .require && rootCertificate != nil)
    }
    public var verifiesHostName: Bool { self == .verifyFull }
}

/// libpq's `target_session_attrs`: which server of the host list is acceptable.
public enum TargetSessionAttributes: String, Sendable, CaseIterable {
    case any
    case readWrite = "read-write"
    case readOnly = "read-only"
    case primary, standby
    case preferStandby = "prefer-standby"
}

/// The password, kept out of every description, debug description and reflection.
public struct PostgresPassword: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let text: String
    public init(_ text: String) { self.text = text }

    static let redacted = "********"
    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
