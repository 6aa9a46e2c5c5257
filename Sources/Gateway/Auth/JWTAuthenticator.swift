import JWT
import Synchronization

/// `TokenAuthenticator` for JWTs from the partner's identity provider (README "JWT bearer
/// tokens"): verified against keys in memory, which a source keeps fresh in the background.
///
/// Wiring: `await JWTAuthenticator.start(configuration: auth, clock:, logger:)` when
/// `GatewayConfiguration.auth` is set, `await stop()` at shutdown.
public final class JWTAuthenticator: TokenAuthenticator {
    public let configuration: JWTConfiguration
    private let holder: JWKSHolder
    private let source: Source
    private let mapping: JWTClaimsMapping
    private let clock: any WallClock
    private let logger: Logger
    private let background = Mutex<Task<Void, Never>?>(nil)
    /// Tokens already checked under the current keys: their signature is not checked again.
    private let remembered = Mutex(VerifiedTokens())

    private enum Source: Sendable {
        case remote(JWKSRemote)
        case file(JWKSFile)
        case fixed
    }

    private init(configuration: JWTConfiguration, holder: JWKSHolder, source: Source, clock: any WallClock, logger: Logger) {
        self.configuration = configuration
        self.holder = holder
        self.source = source
        mapping = JWTClaimsMapping(configuration: configuration)
        self.clock = clock
        self.logger = logger
    }

    /// Loads the keys and starts keeping them fresh. Returns after the first fetch of a JWKS URL
    /// whatever its outcome: an unreachable issuer does not stop the gateway, whose tokens are
    /// refused (401) until a later fetch brings keys (`keyStatus` says so).
    public static func start(configuration: JWTConfiguration, clock: any WallClock = SystemWallClock(), logger: Logger) async -> JWTAuthenticator {
        let holder = JWKSHolder()
        switch configuration.keySource {
        case .sharedSecret(let secret):
            // Checked by the configuration (32 bytes at least); a failure here would be a bug there.
            if let key = try? VerificationKey.sharedSecret(id: nil, secret) { holder.replace(with: [key]) }
            return JWTAuthenticator(configuration: configuration, holder: holder, source: .fixed, clock: clock, logger: logger)
        case .file(let path):
            let file = JWKSFile(path: path, holder: holder, logger: logger)
            file.reloadIfChanged()
            let authenticator = JWTAuthenticator(configuration: configuration, holder: holder, source: .file(file), clock: clock, logger: logger)
            authenticator.background.withLock { $0 = Task { await file.watch() } }
            return authenticator
        case .url(let url, let caFile):
            let remote = JWKSRemote(url: url, additionalCAFile: caFile, timeout: configuration.fetchTimeout, holder: holder, clock: clock, logger: logger)
            let first = await remote.refresh()
            let authenticator = JWTAuthenticator(configuration: configuration, holder: holder, source: .remote(remote), clock: clock, logger: logger)
            authenticator.background.withLock { $0 = Task { await remote.run(after: first) } }
            return authenticator
        }
    }

    /// Ends the background refresh and closes the JWKS client's connections.
    public func stop() async {
        let task = background.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        if case .remote(let remote) = source { remote.shutdown() }
    }

    public func check(_ token: String) -> TokenCheck {
        let now = clock.nowMillis()
        let (keys, generation) = holder.snapshot
        let cacheKey = VerifiedTokens.key(token)
        if let known = remembered.withLock({ $0.lookup(cacheKey, nowMillis: now, keyGeneration: generation) }) { return known }
        do throws(TokenRejection) {
            let verified = try TokenVerifier.verify(token, keys: keys, policy: configuration.policy, nowMillis: now)
            let principal = try mapping.principal(for: verified)
            if let window = VerifiedTokens.window(of: verified, leeway: configuration.policy.leeway) {
                let entry = VerifiedTokens.Accepted(principal: principal, validFrom: window.from, validUntil: window.until, keyGeneration: generation)
                remembered.withLock { $0.accept(cacheKey, entry) }
            }
            // `sub` and `jti` identify the token in logs; the token itself is never written.
            logger.debug("bearer token accepted", ["sub": verified.subject, "jti": verified.tokenId ?? "-"])
            return .valid(principal)
        } catch .unknownKey {
            // Only a fetched set can learn a key; a file or a secret is refused at once.
            if case .remote = source { return .unknownKey }
            return .invalid(reason: TokenRejection.unknownKey.description)
        } catch {
            logger.debug("bearer token refused", ["reason": error.description])
            remembered.withLock { $0.refuse(cacheKey, error, keyGeneration: generation) }
            return .invalid(reason: error.description)
        }
    }

    public func refreshForUnknownKey() async {
        if case .remote(let remote) = source { await remote.refreshForUnknownKey() }
    }

    public var unavailableReason: String? {
        let status = keyStatus
        guard status.keys == 0 else { return nil }
        return "no key to verify tokens with" + (status.lastError.map { ": " + $0 } ?? "")
    }

    /// Whether tokens can be verified at all, and why not.
    public var keyStatus: KeyStatus {
        let count = holder.keys.count
        var lastError: String?
        if case .remote(let remote) = source { lastError = remote.lastError }
        return KeyStatus(keys: count, lastError: lastError)
    }

    public struct KeyStatus: Sendable, Equatable {
        /// Keys in memory; 0 means every token is refused.
        public var keys: Int
        /// Why the last fetch of AUTH_JWKS_URL failed, while it keeps failing (the last good keys still serve).
        public var lastError: String?
    }

    /// The file source, for tests that change the file and look again without waiting a second.
    var file: JWKSFile? {
        if case .file(let file) = source { return file }
        return nil
    }

    var remote: JWKSRemote? {
        if case .remote(let remote) = source { return remote }
        return nil
    }
}
