import HTTP

/// Authentication and authorisation of a keyed route, decided before the store or Rokt is
/// touched: who the bearer credential names (by its form: `rgw_` an API key, `pk_` a publishable
/// key, anything else a token for the `TokenAuthenticator`), then whether that caller may call
/// this route on this merchant. Refusals follow RFC 6750 §3: 401 with a `Bearer` challenge when a
/// new credential could help, 403 when it would not.
struct Authorization: Sendable {
    let keyRing: KeyRing
    /// Bearer tokens that are not keys (AUTH_*); nil: only keys are accepted.
    let tokens: (any TokenAuthenticator)?
    let trustedProxies: TrustedProxies

    init(services: GatewayServices) {
        keyRing = services.keyRing
        tokens = services.tokens
        trustedProxies = services.configuration.trustedProxies
    }

    /// One request to a keyed route, as far as authorisation cares.
    struct Attempt: Sendable {
        var method: HTTPMethod
        var template: String
        var headers: HTTPHeaders
        var remoteAddress: String?
        let requirement: KeyRequirement
        /// The path's merchant as sent (`requirement.merchantParameter`), checked before it is validated.
        var merchant: String?
    }

    /// What can be decided from memory.
    enum Decision: Sendable {
        case allowed(Caller)
        case refused(AuthorizationRefusal)
        /// A token signed with a key the authenticator lacks: worth one refresh of its key set.
        case unknownTokenKey
    }

    /// The caller of `attempt`, or why not; refreshes the token keys once when a token names an
    /// unknown one. Notes the caller for the access log, also when it is refused a route.
    /// `identified`: the caller the head screen authenticated from the same headers.
    func authorize(_ attempt: Attempt, identified: Caller? = nil) async -> Result<Caller, AuthorizationRefusal> {
        var decision = decide(attempt, identified: identified)
        if case .unknownTokenKey = decision, let tokens {
            await tokens.refreshForUnknownKey()
            decision = decide(attempt)
        }
        switch decision {
        case .allowed(let caller): return .success(caller)
        case .refused(let refusal): return .failure(refusal)
        case .unknownTokenKey: return .failure(.invalid("the token is signed with a key the issuer does not publish"))
        }
    }

    /// `authorize` without waiting: `GatewayRouter.screen` answers from the request head with
    /// this, and leaves `.unknownTokenKey` to the handler.
    func decide(_ attempt: Attempt, identified: Caller? = nil) -> Decision {
        let caller: Caller
        switch identified.map(Decision.allowed) ?? identify(attempt) {
        case .allowed(let identified): caller = identified
        case let other: return other
        }
        RequestNotes.noteCaller(caller)
        if let refusal = Self.refusal(of: caller, for: attempt) { return .refused(refusal) }
        return .allowed(caller)
    }

    /// Who the credential names, by its form.
    private func identify(_ attempt: Attempt) -> Decision {
        guard let credential = Self.bearerCredential(attempt.headers) else { return .refused(.missingCredential) }
        if let kind = ApiKeyMaterial.kind(of: credential) {
            guard let key = keyRing.authenticate(credential), key.kind == kind else {
                return .refused(.invalid(kind == .secret ? "the API key is unknown or revoked" : "the publishable key is unknown or revoked"))
            }
            switch kind {
            case .secret: return .allowed(Caller(.apiKey(key)))
            case .publishable:
                let address = trustedProxies.clientAddress(peer: attempt.remoteAddress, headers: attempt.headers)
                return .allowed(Caller(.publishableKey(key, clientAddress: address)))
            }
        }
        guard let tokens else { return .refused(.invalid("not an API key, and this gateway accepts no other bearer token")) }
        switch tokens.check(credential) {
        case .valid(let user): return .allowed(Caller(.user(user)))
        case .invalid(let reason): return .refused(.invalid(reason))
        case .unknownKey: return .unknownTokenKey
        }
    }

    /// Why `caller` may not make `attempt`; nil when it may.
    static func refusal(of caller: Caller, for attempt: Attempt) -> AuthorizationRefusal? {
        if case .publishableKey(let key, _) = caller.credential {
            guard attempt.method == .post, attempt.template == PublishableAccess.route else {
                return .forbidden("A publishable key may only call placements (POST \(PublishableAccess.route)).")
            }
            guard let origin = attempt.headers["Origin"] else {
                return .forbidden("A publishable key is accepted only from a browser page on one of its origins; the request has no Origin header.")
            }
            guard key.origins?.contains(origin.lowercased()) == true else {
                return .forbidden("The request's Origin is not one this publishable key was created for.")
            }
            return nil
        }
        let scope = attempt.requirement.scope
        guard caller.allows(scope) else {
            return AuthorizationRefusal(
                problem: .forbidden("\(caller.noun) lacks the `\(scope.rawValue)` scope."), challenge: .insufficientScope(scope))
        }
        if let merchant = attempt.merchant, !caller.allows(merchant: merchant) {
            return .forbidden("\(caller.noun) may not act on merchant \(merchant).")
        }
        return nil
    }

    /// The credential of `Authorization: Bearer <credential>`; nil when there is none.
    static func bearerCredential(_ headers: HTTPHeaders) -> String? {
        guard let header = headers["Authorization"], header.count > 7, header.prefix(7).asciiCaseInsensitiveEquals("Bearer ") else {
            return nil
        }
        let credential = String(header.dropFirst(7)).trimmingHTTPWhitespace()
        return credential.isEmpty ? nil : credential
    }

    /// The authenticated caller of the request being handled, for a handler's finer checks.
    static func caller() throws(Problem) -> Caller {
        guard let caller = Caller.current else { throw AuthorizationRefusal.missingCredential.problem }
        return caller
    }
}

/// What a publishable key may call: placements, which is safe for anyone to ask.
enum PublishableAccess {
    static let route = "/v1/placements/any"
}

/// A keyed request refused: the problem (RFC 9457, our codes) and the RFC 6750 challenge.
struct AuthorizationRefusal: Error, Equatable, Sendable {
    let problem: Problem
    let challenge: BearerChallenge?

    static let missingCredential = AuthorizationRefusal(
        problem: Problem(status: 401, code: .unauthenticated, detail: "Send a valid API key or token as `Authorization: Bearer <credential>`."),
        challenge: .credentialMissing)

    /// 401: the credential is unknown, revoked, expired or otherwise refused; `reason` names
    /// which, never the credential.
    static func invalid(_ reason: String) -> AuthorizationRefusal {
        AuthorizationRefusal(
            problem: Problem(status: 401, code: .unauthenticated, detail: "The bearer credential was refused: \(reason)."),
            challenge: .invalidToken(reason))
    }

    /// 403 that no other credential of the same caller would change (a merchant, a route, an origin).
    static func forbidden(_ detail: String) -> AuthorizationRefusal { AuthorizationRefusal(problem: .forbidden(detail), challenge: nil) }

    func response() -> HTTPResponse {
        var headers = HTTPHeaders()
        if let challenge { headers["WWW-Authenticate"] = challenge.headerValue }
        return problem.response(headers: headers)
    }
}

/// RFC 6750 §3's `WWW-Authenticate: Bearer …` challenges.
enum BearerChallenge: Equatable, Sendable {
    /// No credential: the scheme and realm only.
    case credentialMissing
    case invalidToken(String)
    case insufficientScope(Scope)

    static let realm = "rokt-gateway"

    var headerValue: String {
        let base = "Bearer realm=\"\(Self.realm)\""
        switch self {
        case .credentialMissing: return base
        case .invalidToken(let description):
            return base + ", error=\"invalid_token\", error_description=\"\(Self.errorDescription(description))\""
        case .insufficientScope(let scope):
            return base + ", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\""
        }
    }

    /// RFC 6750 §3 allows only printable ASCII without `"` and `\` in `error_description`:
    /// `"` becomes `'`, anything else outside it `?`, so the challenge always parses.
    static func errorDescription(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "'"
            case "\\": out += "?"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "?"
            }
        }
        return out
    }
}
