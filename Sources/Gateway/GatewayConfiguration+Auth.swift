import HTTP
import JWT

/// JWT bearer tokens from the partner's identity provider (README "JWT bearer tokens"): the
/// AUTH_* variables. Off (nil) unless one of them is set.
public struct JWTConfiguration: Sendable {
    /// Where the verification keys come from.
    public enum KeySource: Sendable {
        /// AUTH_JWKS_URL over https, trusting the system roots and AUTH_JWKS_CA_FILE when set.
        case url(String, additionalCAFile: String?)
        /// AUTH_JWKS_FILE, reloaded when it changes; may hold `oct` keys (it is the operator's own).
        case file(String)
        /// AUTH_HS256_SECRET(_FILE): one shared secret, for HS256 alone.
        case sharedSecret([UInt8])
    }

    public var policy: TokenPolicy
    public var keySource: KeySource
    /// AUTH_SCOPES_CLAIM: read scopes from this claim alone; nil reads `scope`, then `scp`.
    public var scopesClaim: String?
    /// The token's scope names and the gateway scope each grants (AUTH_SCOPE_MAP).
    public var scopeMap: [String: Scope] = JWTConfiguration.defaultScopeMap
    /// AUTH_MERCHANTS_CLAIM: the claim listing the merchant account ids a user may touch.
    public var merchantsClaim = "merchant_ids"
    /// AUTH_ALL_MERCHANTS_VALUE: a value of the merchants claim that means every merchant; nil: none does.
    public var allMerchantsValue: String?
    /// One JWKS fetch, connection included; also how long `JWTAuthenticator.start` waits on an
    /// issuer that does not answer.
    public var fetchTimeout: Duration = .seconds(5)

    /// Our scope names as they are, and prefixed `rokt-gateway:` as identity providers namespace them.
    public static let defaultScopeMap: [String: Scope] = Dictionary(
        uniqueKeysWithValues: Scope.allCases.flatMap { [($0.rawValue, $0), ("rokt-gateway:" + $0.rawValue, $0)] })

    public init(policy: TokenPolicy, keySource: KeySource) {
        self.policy = policy
        self.keySource = keySource
    }
}

extension JWTConfiguration.KeySource: CustomStringConvertible {
    /// Where the keys come from, for messages: never the secret.
    public var description: String {
        switch self {
        case .url(let url, _): url
        case .file(let path): path
        case .sharedSecret: "the HS256 secret"
        }
    }
}

extension GatewayConfiguration {
    static let authVariables = [
        "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "AUTH_JWKS_FILE", "AUTH_JWKS_CA_FILE", "AUTH_HS256_SECRET", "AUTH_HS256_SECRET_FILE",
        "AUTH_ALGORITHMS", "AUTH_LEEWAY_SECONDS", "AUTH_SCOPES_CLAIM", "AUTH_SCOPE_MAP", "AUTH_MERCHANTS_CLAIM", "AUTH_ALL_MERCHANTS_VALUE",
    ]

    /// AUTH_*: nil when none is set; otherwise the issuer, the audience and exactly one key source
    /// are required. Errors name the variable and never quote the secret.
    static func readAuth(_ reader: EnvironmentReader) throws(ConfigurationError) -> JWTConfiguration? {
        guard let set = authVariables.first(where: { reader.value($0) != nil }) else { return nil }
        guard let issuer = reader.value("AUTH_ISSUER") else { throw ConfigurationError(variable: "AUTH_ISSUER", message: "is required when \(set) is set") }
        guard let audience = reader.value("AUTH_AUDIENCE") else {
            throw ConfigurationError(variable: "AUTH_AUDIENCE", message: "is required when \(set) is set")
        }
        var policy = TokenPolicy(issuer: issuer, audience: audience)
        if let raw = reader.value("AUTH_ALGORITHMS") { policy.algorithms = try algorithms(raw) }
        if let leeway = try reader.integer("AUTH_LEEWAY_SECONDS", 0...600, "seconds") { policy.leeway = .seconds(leeway) }
        var configuration = JWTConfiguration(policy: policy, keySource: try keySource(reader))
        if case .sharedSecret = configuration.keySource, !policy.algorithms.contains(.hs256) {
            throw ConfigurationError(variable: "AUTH_ALGORITHMS", message: "must include HS256 when the key is AUTH_HS256_SECRET")
        }
        configuration.scopesClaim = reader.value("AUTH_SCOPES_CLAIM")
        if let raw = reader.value("AUTH_SCOPE_MAP") { configuration.scopeMap = try scopeMap(raw) }
        if let claim = reader.value("AUTH_MERCHANTS_CLAIM") { configuration.merchantsClaim = claim }
        configuration.allMerchantsValue = reader.value("AUTH_ALL_MERCHANTS_VALUE")
        return configuration
    }

    private static func keySource(_ reader: EnvironmentReader) throws(ConfigurationError) -> JWTConfiguration.KeySource {
        let secret = try reader.secret("AUTH_HS256_SECRET")
        let secretVariable = reader.value("AUTH_HS256_SECRET_FILE") != nil ? "AUTH_HS256_SECRET_FILE" : "AUTH_HS256_SECRET"
        let url = reader.value("AUTH_JWKS_URL")
        let file = reader.value("AUTH_JWKS_FILE")
        let caFile = reader.value("AUTH_JWKS_CA_FILE")
        let chosen = [url.map { _ in "AUTH_JWKS_URL" }, file.map { _ in "AUTH_JWKS_FILE" }, secret.map { _ in secretVariable }].compactMap { $0 }
        guard chosen.count == 1 else {
            let message =
                chosen.isEmpty ? "is required (or AUTH_JWKS_FILE, or AUTH_HS256_SECRET)" : "and \(chosen.dropFirst().joined(separator: " and ")) are both set; set only one"
            throw ConfigurationError(variable: chosen.first ?? "AUTH_JWKS_URL", message: message)
        }
        if caFile != nil && url == nil { throw ConfigurationError(variable: "AUTH_JWKS_CA_FILE", message: "is set but AUTH_JWKS_URL is not") }
        if let url {
            guard let parsed = ClientURL(url), parsed.isTLS else {
                throw ConfigurationError(variable: "AUTH_JWKS_URL", message: "must be an https URL, got \"\(url)\"")
            }
            if let caFile {
                do { _ = try WholeFile.read(caFile, limit: 1 << 20) } catch { throw ConfigurationError(variable: "AUTH_JWKS_CA_FILE", message: "\(caFile) \(error.reason)") }
            }
            return .url(url, additionalCAFile: caFile)
        }
        if let file {
            // Read now so check-config and a bad deployment fail at once; `JWKSFile` rereads it on change.
            do { _ = try JWKSFile.load(file) } catch { throw ConfigurationError(variable: "AUTH_JWKS_FILE", message: "\(file) \(error.description)") }
            return .file(file)
        }
        guard let secret, secret.utf8.count >= VerificationKey.minimumSecretBytes else {
            throw ConfigurationError(variable: secretVariable, message: "must be at least \(VerificationKey.minimumSecretBytes) bytes (RFC 7518 §3.2)")
        }
        return .sharedSecret(Array(secret.utf8))
    }

    /// A comma-separated allow-list of JWS algorithm names.
    static func algorithms(_ raw: String) throws(ConfigurationError) -> Set<JWSAlgorithm> {
        var result: Set<JWSAlgorithm> = []
        for name in raw.split(separator: ",").map({ String($0).trimmingHTTPWhitespace() }) where !name.isEmpty {
            guard let algorithm = JWSAlgorithm(rawValue: name) else {
                let known = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(variable: "AUTH_ALGORITHMS", message: "must list algorithms from \(known), got \"\(name)\"")
            }
            result.insert(algorithm)
        }
        guard !result.isEmpty else { throw ConfigurationError(variable: "AUTH_ALGORITHMS", message: "must list at least one algorithm") }
        return result
    }

    /// `token-scope=our-scope` pairs, comma-separated (`rokt:read=read,rokt:write=write`).
    static func scopeMap(_ raw: String) throws(ConfigurationError) -> [String: Scope] {
        var map: [String: Scope] = [:]
        for pair in raw.split(separator: ",").map({ String($0).trimmingHTTPWhitespace() }) where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingHTTPWhitespace() }
            guard parts.count == 2, !parts[0].isEmpty, let scope = Scope(rawValue: parts[1]) else {
                throw ConfigurationError(variable: "AUTH_SCOPE_MAP", message: "must be token-scope=scope pairs with scopes read, write, webhooks or admin, got \"\(pair)\"")
            }
            map[parts[0]] = scope
        }
        guard !map.isEmpty else { throw ConfigurationError(variable: "AUTH_SCOPE_MAP", message: "must map at least one scope") }
        return map
    }
}
