/// Why a connection could not be opened, or why a query on it ended without the server's answer.
///
/// Errors the server reports for a query are `PostgresError` (thrown as they are); this type is
/// for everything around them. No case carries the password: descriptions are safe to log.
public enum PostgresConnectionError: Error, Sendable, CustomStringConvertible {
    /// No endpoint accepted a connection; `reason` is the last endpoint's failure.
    case connectFailed(endpoint: String, reason: String)
    /// `connect_timeout` passed before the session was ready.
    case connectTimedOut(endpoint: String)
    /// `sslmode` requires TLS and the server answered SSLRequest with 'N'.
    case tlsRefusedByServer(endpoint: String)
    /// The TLS handshake or the certificate check failed.
    case tlsFailed(String)
    /// The server refused the login (SQLSTATE 28P01 invalid_password, 28000…).
    case authenticationFailed(PostgresError)
    /// We refused the method the server asked for (`require_auth`, or a weak one without TLS).
    case authenticationRefused(AuthenticationRefusal)
    /// The server asked for a password and the configuration has none.
    case passwordRequired
    /// The SCRAM exchange failed on our side (e.g. the server could not prove it knows the password).
    case scram(SCRAMError)
    /// Kerberos, GSSAPI, SSPI or SCM credentials: methods this client does not speak.
    case unsupportedAuthentication(code: Int32)
    /// Authenticated, then refused before ReadyForQuery (e.g. 3D000: the database does not exist).
    case startupFailed(PostgresError)
    /// The server broke the protocol; the connection is closed.
    case protocolViolation(String)
    /// The connection is closed: by `close()`, by the server (`serverError` is its last FATAL,
    /// e.g. 57P01 admin_shutdown) or because the socket failed.
    case closed(reason: String, serverError: PostgresError?)
    /// The query's timeout passed; it was cancelled (`serverError` is the server's 57014
    /// query_canceled, nil when it was still waiting in line).
    case queryTimedOut(PostgresError?)
    /// The calling task was cancelled; so was the query (57014 from the server, or nil when it
    /// had not started).
    case queryCancelled(PostgresError?)
    /// A row value could not be decoded as its column's type.
    case decoding(PostgresDecodingError)
    /// The SQL or a parameter cannot be encoded (a NUL in the text, a value too large).
    case unencodable(PostgresProtocolError)

    /// The server's SQLSTATE when the server said why.
    public var sqlState: SQLState? {
        switch self {
        case .authenticationFailed(let e), .startupFailed(let e): e.sqlState
        case .closed(_, let e), .queryTimedOut(let e), .queryCancelled(let e): e?.sqlState
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .connectFailed(let endpoint, let reason): "cannot connect to PostgreSQL at \(endpoint): \(reason)"
        case .connectTimedOut(let endpoint): "PostgreSQL at \(endpoint) did not answer within connect_timeout"
        case .tlsRefusedByServer(let endpoint): "PostgreSQL at \(endpoint) does not accept TLS, which sslmode requires"
        case .tlsFailed(let reason): "TLS with PostgreSQL failed: \(reason)"
        case .authenticationFailed(let error): "PostgreSQL refused the login: \(error)"
        case .authenticationRefused(let refusal): "authentication refused: \(refusal)"
        case .passwordRequired: "the server asks for a password and none is configured"
        case .scram(let error): "authentication failed: \(error)"
        case .unsupportedAuthentication(let code): "the server asks for authentication method \(code), which this client does not support"
        case .startupFailed(let error): "PostgreSQL refused the session: \(error)"
        case .protocolViolation(let reason): "PostgreSQL protocol violation: \(reason)"
        case .closed(let reason, let error): "the PostgreSQL connection is closed: \(reason)" + (error.map { " (\($0))" } ?? "")
        case .queryTimedOut(let error): "the query timed out and was cancelled" + (error.map { " (\($0.sqlState))" } ?? "")
        case .queryCancelled(let error): "the query was cancelled" + (error.map { " (\($0.sqlState))" } ?? "")
        case .decoding(let error): error.description
        case .unencodable(let error): "cannot send the query: \(error)"
        }
    }
}
