/// How the server may make us authenticate, named as libpq's `require_auth` names them.
public enum AuthenticationMethod: String, Sendable, CaseIterable {
    /// `trust`: the server sends AuthenticationOk without asking for anything.
    case none
    /// AuthenticationCleartextPassword: the password itself on the wire.
    case password
    /// AuthenticationMD5Password (`MD5Password`).
    case md5
    /// AuthenticationSASL with SCRAM-SHA-256 (`SCRAMSHA256Client`).
    case scramSHA256 = "scram-sha-256"
}

/// Which methods the connection accepts when the server asks for one.
///
/// SCRAM-SHA-256 never reveals the password and proves the server knows it, so it is always
/// allowed, as is `none` (the server chose to trust us). `password` (cleartext) and `md5` (a hash
/// that can be replayed) are allowed only over TLS, unless the connection string names them
/// explicitly in libpq's `require_auth` (e.g. `require_auth=md5,scram-sha-256`): then they are
/// allowed without TLS too. `require_auth` also narrows the set as libpq does:
/// `require_auth=scram-sha-256` refuses everything else, `!password,!md5` refuses those two.
public struct AuthenticationPolicy: Sendable, Equatable {
    /// Methods the server may use at all.
    public let allowed: Set<AuthenticationMethod>
    /// Methods the connection string named positively: weak ones among them need no TLS.
    public let named: Set<AuthenticationMethod>

    public static let `default` = AuthenticationPolicy(allowed: Set(AuthenticationMethod.allCases), named: [])

    private init(allowed: Set<AuthenticationMethod>, named: Set<AuthenticationMethod>) {
        (self.allowed, self.named) = (allowed, named)
    }

    /// Parses libpq's `require_auth`: a comma-separated list of methods, all plain (only these)
    /// or all prefixed with `!` (all but these). libpq's `gss`, `sspi`, `creds` and `oauth` are
    /// methods this client cannot speak: listing them positively is an error, negating them
    /// changes nothing.
    public init(requireAuth: String) throws(ConnectionStringError) {
        let names = requireAuth.split(separator: ",", omittingEmptySubsequences: false)
        let negated = names.filter { $0.hasPrefix("!") }.count
        guard negated == 0 || negated == names.count else {
            throw .invalidValue(parameter: "require_auth", value: requireAuth, expected: "methods either all negated with ! or none")
        }
        var methods: Set<AuthenticationMethod> = []
        for name in names {
            let bare = name.hasPrefix("!") ? name.dropFirst() : name[...]
            if let method = AuthenticationMethod(rawValue: String(bare)) {
                methods.insert(method)
            } else if !(negated > 0 && ["gss", "sspi", "creds", "oauth"].contains(bare)) {
                throw .invalidValue(parameter: "require_auth", value: requireAuth, expected: "none, password, md5 or scram-sha-256 (optionally each with !)")
            }
        }
        if negated > 0 {
            self.init(allowed: Set(AuthenticationMethod.allCases).subtracting(methods), named: [])
        } else {
            self.init(allowed: methods, named: methods)
        }
    }

    /// Whether the connection may answer `method`; `overTLS` is whether the socket is encrypted.
    public func check(_ method: AuthenticationMethod, overTLS: Bool) throws(AuthenticationRefusal) {
        guard allowed.contains(method) else { throw .notAllowed(method) }
        switch method {
        case .none, .scramSHA256: return
        case .password, .md5:
            guard overTLS || named.contains(method) else { throw .needsTLS(method) }
        }
    }

    /// The SASL mechanism to use from AuthenticationSASL's list: SCRAM-SHA-256 (without channel
    /// binding, so `-PLUS` alone is not enough).
    public func saslMechanism(offered: [String]) throws(AuthenticationRefusal) -> String {
        guard allowed.contains(.scramSHA256) else { throw .notAllowed(.scramSHA256) }
        guard offered.contains(SCRAMSHA256Client.mechanism) else { throw .noSupportedSASLMechanism(offered: offered) }
        return SCRAMSHA256Client.mechanism
    }
}

/// Why the connection refused the authentication the server asked for.
public enum AuthenticationRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case notAllowed(AuthenticationMethod)
    case needsTLS(AuthenticationMethod)
    case noSupportedSASLMechanism(offered: [String])

    public var description: String {
        switch self {
        case .notAllowed(let method): "the server asked for \(method.rawValue) authentication, which require_auth does not allow"
        case .needsTLS(let method):
            "the server asked for \(method.rawValue) authentication without TLS; use sslmode=require or name it in require_auth to allow it"
        case .noSupportedSASLMechanism(let offered):
            "the server offers SASL mechanisms \(offered.joined(separator: ", ")); this client speaks only \(SCRAMSHA256Client.mechanism)"
        }
    }
}
