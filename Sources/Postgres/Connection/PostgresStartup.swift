/// The startup and authentication exchange (protocol-flow §"Start-up"), as a pure state machine:
/// the connection feeds it each backend message and does what it answers. Tested with scripted
/// messages, no socket.
struct PostgresStartup {
    enum Action {
        /// Send this message and wait for the next.
        case send(PostgresFrontendMessage)
        case wait
        /// ReadyForQuery: the session is usable.
        case ready(PostgresTransactionStatus)
    }

    private let user: String
    private let password: String?
    private let policy: AuthenticationPolicy
    private let overTLS: Bool
    private let clientNonce: @Sendable () -> String
    private var scram: SCRAMSHA256Client?
    /// Whether we sent a password (cleartext or md5): AuthenticationOk then is not `trust`.
    private var sentPassword = false
    private var authenticated = false
    private(set) var parameters: [String: String] = [:]
    private(set) var backendKey: (processID: Int32, secretKey: Int32)?

    init(user: String, password: String?, policy: AuthenticationPolicy, overTLS: Bool, clientNonce: @escaping @Sendable () -> String = SCRAMSHA256Client.randomClientNonce) {
        (self.user, self.password, self.policy, self.overTLS, self.clientNonce) = (user, password, policy, overTLS, clientNonce)
    }

    mutating func receive(_ message: PostgresBackendMessage) throws(PostgresConnectionError) -> Action {
        switch message {
        case .authentication(let request): return try authenticate(request)
        case .parameterStatus(let name, let value):
            parameters[name] = value
            return .wait
        case .backendKeyData(let processID, let secretKey):
            backendKey = (processID, secretKey)
            return .wait
        case .readyForQuery(let status):
            guard authenticated else { throw .protocolViolation("ReadyForQuery before AuthenticationOk") }
            return .ready(status)
        case .errorResponse(let error):
            throw authenticated ? .startupFailed(error) : .authenticationFailed(error)
        case .noticeResponse, .negotiateProtocolVersion:
            // We ask for no `_pq_.` options and speak 3.0, which every 3.x server accepts.
            return .wait
        default:
            throw .protocolViolation("unexpected message during startup: \(message)")
        }
    }

    private mutating func authenticate(_ request: PostgresAuthenticationRequest) throws(PostgresConnectionError) -> Action {
        guard !authenticated else { throw .protocolViolation("authentication request after AuthenticationOk") }
        switch request {
        case .ok:
            if let scram {
                // A server that skips SASLFinal never proved it knows the password.
                guard scram.isAuthenticated else { throw .scram(.outOfOrder) }
            } else if !sentPassword {
                try check(.none)
            }
            authenticated = true
            return .wait
        case .cleartextPassword:
            try check(.password)
            sentPassword = true
            return .send(.password(try requirePassword()))
        case .md5Password(let salt):
            try check(.md5)
            sentPassword = true
            return .send(.password(MD5Password.response(user: user, password: try requirePassword(), salt: salt)))
        case .sasl(let mechanisms):
            let mechanism: String
            do { mechanism = try policy.saslMechanism(offered: mechanisms) } catch { throw .authenticationRefused(error) }
            guard scram == nil else { throw .protocolViolation("a second AuthenticationSASL") }
            var client = SCRAMSHA256Client(password: try requirePassword(), clientNonce: clientNonce())
            let first = client.clientFirstMessage()
            scram = client
            return .send(.saslInitialResponse(mechanism: mechanism, data: first))
        case .saslContinue(let data):
            guard var client = scram else { throw .protocolViolation("AuthenticationSASLContinue without SASL") }
            do {
                let final = try client.clientFinalMessage(serverFirstMessage: data)
                scram = client
                return .send(.saslResponse(final))
            } catch {
                throw .scram(error)
            }
        case .saslFinal(let data):
            guard var client = scram else { throw .protocolViolation("AuthenticationSASLFinal without SASL") }
            do { try client.verifyServerFinalMessage(data) } catch { throw .scram(error) }
            scram = client
            return .wait
        case .unsupported(let code):
            throw .unsupportedAuthentication(code: code)
        }
    }

    private func check(_ method: AuthenticationMethod) throws(PostgresConnectionError) {
        do { try policy.check(method, overTLS: overTLS) } catch { throw .authenticationRefused(error) }
    }

    private func requirePassword() throws(PostgresConnectionError) -> String {
        guard let password else { throw .passwordRequired }
        return password
    }
}
