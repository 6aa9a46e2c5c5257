#if canImport(Glibc)
    import Glibc
#endif

/// Where and how to connect, read from a libpq connection string (`DATABASE_URL`): the URI form
/// `postgres://user:password@host:port/dbname?sslmode=require` or the keyword/value form
/// `host=localhost dbname=gateway`, with libpq's defaults and checks. `description` never shows
/// the password.
public struct PostgresConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The servers to try in order (libpq's host list); the first that accepts us is used.
    public var endpoints: [PostgresEndpoint]
    public var user: String
    public var password: PostgresPassword?
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert`: a PEM file of trusted roots, or `system` for the system store; nil means
    /// the system store (libpq would read ~/.postgresql/root.crt, a file we do not look for).
    public var sslRootCertificate: String?
    public var applicationName: String?
    /// Per endpoint; nil waits as long as the operating system does (libpq's 0).
    public var connectTimeout: Duration?
    /// Sent as the startup packet's `options` (e.g. `-c statement_timeout=5s`).
    public var options: String?
    public var targetSessionAttributes: TargetSessionAttributes
    public var authentication: AuthenticationPolicy

    public static let defaultPort = 5432
    /// Where Debian's libpq looks for the server's socket when no host is given.
    public static let defaultSocketDirectory = "/var/run/postgresql"

    /// Reads `connectionString`. `password` is one read by the caller from elsewhere (the gateway
    /// reads `DATABASE_PASSWORD` or the file `DATABASE_PASSWORD_FILE` names with its rule for
    /// secrets); giving it when the string has one too is an error. `defaultUser` is libpq's
    /// fallback when no user is given (the operating-system user); nil makes a user required.
    public init(connectionString: String, password: String? = nil, defaultUser: String? = nil) throws(ConnectionStringError) {
        var values: [String: String] = [:]
        for (keyword, value) in try ConnectionString.parameters(connectionString) {
            guard Self.supportedParameters.contains(keyword) else {
                throw Self.unsupportedParameters.contains(keyword) ? .unsupportedParameter(keyword) : .unknownParameter(keyword)
            }
            values[keyword] = value
        }
        if let password {
            guard values["password", default: ""].isEmpty else { throw .passwordGivenTwice }
            values["password"] = password
        }
        guard let user = values["user"].flatMap({ $0.isEmpty ? nil : $0 }) ?? defaultUser else { throw .missingUser }
        self.user = user
        // libpq: an empty password is no password.
        self.password = values["password"].flatMap { $0.isEmpty ? nil : PostgresPassword($0) }
        self.database = values["dbname"].flatMap { $0.isEmpty ? nil : $0 } ?? user
        self.endpoints = try Self.endpoints(host: values["host"], hostaddr: values["hostaddr"], port: values["port"])
        self.sslRootCertificate = values["sslrootcert"]
        self.sslMode = try Self.sslMode(values["sslmode"], rootCertificate: sslRootCertificate)
        self.applicationName = values["application_name"] ?? values["fallback_application_name"]
        self.connectTimeout = try values["connect_timeout"].flatMap(Self.connectTimeout)
        self.options = values["options"]
        self.targetSessionAttributes = try Self.parsed(values["target_session_attrs"], as: TargetSessionAttributes.self, parameter: "target_session_attrs") ?? .any
        self.authentication = try values["require_auth"].map { value throws(ConnectionStringError) in try AuthenticationPolicy(requireAuth: value) } ?? .default
        // No channel binding here: `require` could never be met, so refuse it at once.
        if let binding = values["channel_binding"], binding != "disable", binding != "prefer" {
            throw binding == "require"
                ? .unsupportedValue(parameter: "channel_binding", value: binding) : .invalidValue(parameter: "channel_binding", value: binding, expected: "disable or prefer")
        }
    }

    /// libpq parameters this client understands.
    static let supportedParameters: Set<String> = [
        "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "sslrootcert", "application_name",
        "fallback_application_name", "connect_timeout", "options", "target_session_attrs", "require_auth", "channel_binding",
    ]
    /// libpq parameters this client does not implement: named as such rather than as unknown.
    static let unsupportedParameters: Set<String> = [
        "passfile", "service", "client_encoding", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
        "tcp_user_timeout", "replication", "gssencmode", "gsslib", "gssdelegation", "krbsrvname", "sslnegotiation",
        "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
        "ssl_min_protocol_version", "ssl_max_protocol_version", "load_balance_hosts", "min_protocol_version", "max_protocol_version",
    ]

    /// libpq's host, hostaddr and port lists, matched up: one port for all or one per host; a host
    /// starting with `/` is a socket directory; an empty host is the default socket.
    private static func endpoints(host: String?, hostaddr: String?, port: String?) throws(ConnectionStringError) -> [PostgresEndpoint] {
        let addresses = hostaddr.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        var hosts = host.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        if hosts.isEmpty { hosts = Array(repeating: "", count: max(1, addresses.count)) }
        guard addresses.isEmpty || addresses.count == hosts.count else {
            throw .mismatchedLists("\(hosts.count) host names but \(addresses.count) hostaddr values")
        }
        let portTexts = port.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [""]
        guard portTexts.count == 1 || portTexts.count == hosts.count else {
            throw .mismatchedLists("\(hosts.count) hosts but \(portTexts.count) ports")
        }
        var endpoints: [PostgresEndpoint] = []
        for (index, name) in hosts.enumerated() {
            let portText = portTexts.count == 1 ? portTexts[0] : portTexts[index]
            let port = try portText.isEmpty ? defaultPort : parsedPort(portText)
            let address = addresses.isEmpty || addresses[index].isEmpty ? nil : addresses[index]
            if let address, !isNumericAddress(address) {
                throw .invalidValue(parameter: "hostaddr", value: address, expected: "a numeric IPv4 or IPv6 address")
            }
            if let address {
                endpoints.append(.tcp(host: name.isEmpty ? address : name, address: address, port: port))
            } else if name.isEmpty || name.hasPrefix("/") {
                endpoints.append(.unixSocket(directory: name.isEmpty ? defaultSocketDirectory : name, port: port))
            } else {
                endpoints.append(.tcp(host: name, address: nil, port: port))
            }
        }
        return endpoints
    }

    private static func parsedPort(_ text: String) throws(ConnectionStringError) -> Int {
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let port = Int(text), (1...65535).contains(port) else {
            throw .invalidPort(text)
        }
        return port
    }

    private static func isNumericAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }

    /// libpq: whole seconds; zero or negative waits forever; 1 counts as 2.
    private static func connectTimeout(_ text: String) throws(ConnectionStringError) -> Duration? {
        guard let seconds = Int(text) else { throw .invalidValue(parameter: "connect_timeout", value: text, expected: "whole seconds") }
        return seconds <= 0 ? nil : .seconds(max(seconds, 2))
    }

    private static func sslMode(_ text: String?, rootCertificate: String?) throws(ConnectionStringError) -> SSLMode {
        let mode = try parsed(text, as: SSLMode.self, parameter: "sslmode")
        // libpq (16+): the system's roots make sense only with the host name checked.
        guard rootCertificate == "system" else { return mode ?? .prefer }
        guard mode == nil || mode == .verifyFull else {
            throw .invalidValue(parameter: "sslmode", value: text ?? "", expected: "verify-full with sslrootcert=system")
        }
        return .verifyFull
    }

    private static func parsed<Value: RawRepresentable & CaseIterable>(_ text: String?, as: Value.Type, parameter: String) throws(ConnectionStringError) -> Value?
    where Value.RawValue == String {
        guard let text else { return nil }
        guard let value = Value(rawValue: text) else {
            throw .invalidValue(parameter: parameter, value: text, expected: Value.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    /// libpq keyword/value form with the password replaced, for logs and errors.
    public var description: String {
        var pairs: [(String, String)] = [("user", user)]
        if password != nil { pairs.append(("password", PostgresPassword.redacted)) }
        pairs.append(("dbname", database))
        pairs.append(("host", endpoints.map(\.hostDescription).joined(separator: ",")))
        pairs.append(("port", endpoints.map { String($0.port) }.joined(separator: ",")))
        pairs.append(("sslmode", sslMode.rawValue))
        if let sslRootCertificate { pairs.append(("sslrootcert", sslRootCertificate)) }
        if let applicationName { pairs.append(("application_name", applicationName)) }
        if let connectTimeout { pairs.append(("connect_timeout", String(connectTimeout.components.seconds))) }
        if let options { pairs.append(("options", options)) }
        if targetSessionAttributes != .any { pairs.append(("target_session_attrs", targetSessionAttributes.rawValue)) }
        return pairs.map { "\($0.0)=\(Self.quoted($0.1))" }.joined(separator: " ")
    }

    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) else { return value }
        return "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }
}
