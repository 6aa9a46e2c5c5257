import HTTP
import Rokt
#if canImport(Glibc)
    import Glibc
#endif

/// The running gateway: the store, the engine, the key ring and the HTTP server, wired together.
/// Stopped gracefully by SIGTERM/SIGINT (`drainAndShutdown`).
public final class GatewayApp: Sendable {
    public let configuration: GatewayConfiguration
    public let services: GatewayServices
    public let server: HTTPServer
    /// The METRICS_PORT listener, when set.
    let metricsServer: HTTPServer?
    /// SQLite: one gateway process per file. PostgreSQL: none (replicas share the database).
    private let lock: ProcessLock?
    /// The loops of the group serving HTTP (logged at start).
    private let eventLoops: Int
    private let http: HTTPClient
    private let keyWatcher: Task<Void, Never>
    private let retention: RetentionSweeper
    private let webhooks: WebhookDispatcher
    /// The AUTH_* token verifier this app started (and stops), when configured.
    private let jwt: JWTAuthenticator?
    /// Everything the gateway keeps; components get only the protocols they need.
    let store: any GatewayStore

    /// Opens (and migrates) the database, loads the keys, starts the engine; the server is bound by `start()`.
    /// `tokens` verifies bearer tokens that are not keys (nil: the AUTH_* verifier when configured,
    /// else keys only).
    public init(
        configuration: GatewayConfiguration, group: EventLoopGroup = .shared, clock: any WallClock = SystemWallClock(),
        engineConfiguration: EngineConfiguration? = nil, logger: Logger? = nil, tokens: (any TokenAuthenticator)? = nil
    ) async throws {
        let (token, parent) = try configuration.upstreamCredentials()
        self.configuration = configuration
        eventLoops = group.loops.count
        let logger = logger ?? Logger(level: configuration.logLevel, format: configuration.logFormat, clock: clock)
        ServerLog.install { message in logger.error(message) }
        if configuration.postgres == nil {
            try FileSystemPaths.ensureParentDirectory(of: configuration.databasePath)
            lock = try ProcessLock(path: configuration.databasePath + ".lock")
        } else {
            lock = nil
        }
        let store = try await GatewayStorage.open(configuration, exclusive: true)
        self.store = store
        http = HTTPClient(group: group)
        let metrics = GatewayMetrics()
        var engineSettings = engineConfiguration ?? configuration.engine
        engineSettings.runtime.logger = logger
        let protection = UpstreamProtection.forGateway(
            configuration.upstream, now: engineSettings.runtime.monotonicNow, metrics: metrics, logger: logger)
        let rokt = RoktClient(
            configuration: RoktConfiguration(
                baseURL: configuration.roktBaseURL, token: token, parentAccountId: parent,
                ecommerceBaseURL: configuration.ecommerceBaseURL, ecommerceApiKey: configuration.ecommerceApiKey ?? "",
                tagId: configuration.tagId ?? "", requestTimeout: configuration.roktRequestTimeout),
            http: http, now: { clock.nowMillis() }, protection: protection, observe: { metrics.recordUpstream($0) })
        let keyRing = KeyRing(store: store)
        if let bootstrap = configuration.bootstrapApiKey,
            case .installed(let id, let replaced) = try await ApiKeyService(store: store, clock: clock).installBootstrapKey(bootstrap)
        {
            logger.info("bootstrap key installed", ["keyId": id, "replacedKeyId": replaced ?? "-"])
        }
        try await keyRing.refresh()
        if let bootstrap = configuration.bootstrapApiKey, keyRing.authenticate(bootstrap) == nil {
            // Revoked with `keys revoke`: the same value keeps it revoked; a new value replaces it.
            logger.warn("bootstrap key revoked", ["detail": "GATEWAY_BOOTSTRAP_API_KEY names a revoked key; set a new value to replace it"])
        }
        let engine = OperationEngine(store: store, commits: store, rokt: rokt, clock: clock, configuration: engineSettings)
        try await engine.start()
        webhooks = WebhookDispatcher(
            store: store, clock: clock, configuration: configuration.webhooks,
            allowPrivateNetworks: configuration.allowPrivateWebhooks, logger: logger, group: group, metrics: metrics,
            random: engineSettings.runtime.random)
        try await webhooks.start()
        // Waits at most for the first key-set fetch: an issuer down at start leaves tokens refused
        // (401) until a retry brings keys, while API keys are served.
        if tokens == nil, let auth = configuration.auth {
            jwt = await JWTAuthenticator.start(configuration: auth, clock: clock, logger: logger)
        } else {
            jwt = nil
        }
        services = GatewayServices(
            configuration: configuration, engine: engine, inboundRequests: store, webhookAdmin: store,
            storeHealth: store, rokt: rokt, keyRing: keyRing, tokens: tokens ?? jwt,
            callerLimits: CallerRateLimits(configuration: configuration.rateLimits), logger: logger, clock: clock, metrics: metrics,
            random: engineSettings.runtime.random)
        keyWatcher = Task { await keyRing.watch() }
        retention = RetentionSweeper(store: store, clock: clock, configuration: configuration.retention)
        retention.start(onSweep: metrics.recordRetention) { error in logger.error("retention sweep failed", ["error": "\(error)"]) }
        let router = GatewayRouter(services: services)
        server = try HTTPServer(
            configuration: configuration.server, group: group,
            bodyLimit: { router.bodyLimit(method: $0, path: $1) }, headFilter: { router.screen($0, remoteAddress: $1) }, handler: router.handle)
        if let port = configuration.metricsPort {
            metricsServer = try MetricsRoute.server(services: services, port: port, group: group)
        } else {
            metricsServer = nil
        }
    }

    /// Starts serving (and the METRICS_PORT listener, when set); returns the public port.
    @discardableResult
    public func start() throws -> Int {
        let port = try server.start()
        _ = try metricsServer?.start()
        return port
    }

    /// The bound METRICS_PORT listener's port, once started; nil when `/metrics` is on the public port.
    public var metricsPort: Int? { metricsServer?.port }

    /// Serves until SIGTERM or SIGINT, then drains and returns.
    public func runUntilSignalled() async throws {
        let signals = SignalWaiter(for: [SIGTERM, SIGINT])
        let port = try start()
        var fields = ["port": String(port), "eventLoops": String(eventLoops)]
        if let metricsPort { fields["metricsPort"] = String(metricsPort) }
        services.logger.info("listening", fields)
        await signals.wait()
        await drainAndShutdown()
    }

    /// The stop sequence of docs/operations.md: `/readyz` fails at once while the server keeps serving
    /// for the drain (SHUTDOWN_DRAIN_SECONDS) so the load balancer stops routing here; then the
    /// listener closes, requests in flight finish within the grace (SHUTDOWN_GRACE_SECONDS) and are
    /// answered with `Connection: close`, and the engine and webhook dispatcher hand their leases back.
    public func drainAndShutdown() async {
        services.drain.begin()
        services.logger.info("shutting down", ["drainMs": String(configuration.shutdownDrain.milliseconds)])
        try? await Task.sleep(for: configuration.shutdownDrain)
        await shutdown()
    }

    public func shutdown() async {
        await server.shutdown()
        await metricsServer?.shutdown()
        await services.engine.shutdown()
        await webhooks.shutdown()
        await retention.stop()
        await jwt?.stop()
        keyWatcher.cancel()
        http.shutdown()
        await store.close()
    }
}

enum FileSystemPaths {
    /// The default DATABASE_PATH is ./data/…: create the directory like a user expects.
    static func ensureParentDirectory(of path: String) throws {
        guard let slash = path.lastIndex(of: "/") else { return }
        let directory = String(path[..<slash])
        guard !directory.isEmpty else { return }
        var current = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {  // private: the database holds secrets
                throw ConfigurationError(variable: "DATABASE_PATH", message: "cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
