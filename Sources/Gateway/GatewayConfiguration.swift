import HTTP
import Postgres
import Rokt
#if canImport(Glibc)
    import Glibc
#endif

/// Settings read from the environment (README "Running against Rokt" lists them); each has the documented default.
/// Secrets (the Rokt token, the ecommerce key, the bootstrap key) may come from files (`NAME_FILE`)
/// and are held but never printed.
public struct GatewayConfiguration: Sendable {
    public var port: Int = 8080
    public var host: String = "::"
    /// When set, `/metrics` is served on this port (same host) and not on `port` (METRICS_PORT).
    public var metricsPort: Int?
    /// Event-loop threads: HTTP in and out, the database sessions (HTTP_EVENT_LOOPS); nil: one per CPU this
    /// process may use (its affinity mask and cgroup CPU quota).
    public var eventLoops: Int?
    /// The SQLite file (DATABASE_PATH), unless `postgres` is set.
    public var databasePath: String = "./data/gateway.sqlite3"
    /// DATABASE_URL: the store is this PostgreSQL database, shared by every replica.
    public var postgres: PostgresConfiguration?
    /// Connections each process opens to PostgreSQL at most (DATABASE_MAX_CONNECTIONS).
    public var databaseMaxConnections = 16
    public var roktBaseURL: String = "https://accounts.rokt.com"
    public var roktToken: String?
    public var roktParentAccountId: String?
    public var ecommerceBaseURL: String = "https://api.rokt.com"
    public var ecommerceApiKey: String?
    public var tagId: String?
    public var bootstrapApiKey: String?
    public var allowPrivateWebhooks = false
    /// Webhook delivery bounds (WEBHOOK_RETRY_SCHEDULE, WEBHOOK_DISABLE_AFTER, …).
    public var webhooks = WebhookConfiguration()
    public var syncWait: Duration = .milliseconds(10_000)
    /// Per-call timeout toward Rokt (a timed-out write is retried with its key).
    public var roktRequestTimeout: Duration = .seconds(10)
    public var logLevel: LogLevel = .info
    public var logFormat: LogFormat = .json
    /// `POST /v1/placements/any`: the whole budget of the Rokt call (PLACEMENTS_TIMEOUT_MS).
    public var placementsTimeout: Duration = .milliseconds(300)
    /// What the caller gets when Rokt fails or the budget runs out (PLACEMENTS_ON_ERROR).
    public var placementsOnError: PlacementsFailurePolicy = .skip
    /// Origins allowed to call from a browser (CORS_ALLOWED_ORIGINS); empty turns CORS off.
    public var cors = CORSPolicy(allowedOrigins: [])
    /// JWT bearer tokens (AUTH_* variables); nil: only API keys are accepted.
    public var auth: JWTConfiguration?
    /// Proxies whose X-Forwarded-For / Forwarded is believed (TRUSTED_PROXIES); empty: none.
    public var trustedProxies = TrustedProxies()
    /// Limits on the gateway's own callers (RATE_LIMIT_* variables).
    public var rateLimits = RateLimitConfiguration()
    /// The operation engine's bounds (ENGINE_* and RETRY_* variables).
    public var engine = EngineConfiguration()
    /// The outbound limits, Rokt's pause and the circuit breaker (ROKT_MAX_*, ROKT_CIRCUIT_*).
    public var upstream = UpstreamProtectionSettings.gatewayDefaults
    /// What is deleted when (OPERATIONS_RETENTION, WEBHOOK_RETENTION; idempotency records after 24 h).
    public var retention = RetentionConfiguration()
    /// After SIGTERM, how long `/readyz` answers 503 while requests are still served, so the load
    /// balancer stops routing here before the listener closes (SHUTDOWN_DRAIN_SECONDS).
    public var shutdownDrain: Duration = .seconds(5)
    /// The HTTP server's limits (HTTP_* variables; docs/operations.md lists them). Idle keep-alive
    /// defaults to 75 s, longer than AWS ALB's 60 s, so the load balancer closes an idle connection
    /// first and never sends a request onto one the gateway is closing.
    public var server: HTTPServer.Configuration = {
        var server = HTTPServer.Configuration()
        server.idleTimeout = .seconds(75)
        return server
    }()

    public init() {}

    public enum LogLevel: String, Sendable, Comparable, CaseIterable {
        case debug, info, warn, error
        var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
        public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
    }

    public enum LogFormat: String, Sendable { case json, text }

    /// `skip` (default): a checkout must never wait on or fail for an upsell decision, so any failure
    /// answers `{result: false, degraded: true}`. `error`: 502 (Rokt failed) or 504 (budget spent).
    public enum PlacementsFailurePolicy: String, Sendable { case skip, error }

    /// Reads the variables it knows from `environment`; a malformed value is an error naming the variable
    /// (and, for secrets, never quoting it).
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        let reader = EnvironmentReader(environment: environment)
        func value(_ name: String) -> String? { reader.value(name) }
        if let raw = environment["PORT"] {
            guard let port = Int(raw), (0...65535).contains(port) else {
                throw ConfigurationError(variable: "PORT", message: "must be a port number (0-65535), got \"\(raw)\"")
            }
            configuration.port = port
        }
        if let port = try reader.integer("METRICS_PORT", 0...65535, "a port number") {
            // 0 (any free port, for tests) twice is two ports; the same fixed port twice cannot be bound.
            guard port != configuration.port || port == 0 else {
                throw ConfigurationError(variable: "METRICS_PORT", message: "must differ from PORT (\(configuration.port))")
            }
            configuration.metricsPort = port
        }
        if let path = value("DATABASE_PATH") { configuration.databasePath = path }
        try readDatabase(into: &configuration, reader)
        if let url = value("ROKT_BASE_URL") { configuration.roktBaseURL = try checkedURL(url, variable: "ROKT_BASE_URL") }
        if let url = value("ROKT_ECOMMERCE_BASE_URL") { configuration.ecommerceBaseURL = try checkedURL(url, variable: "ROKT_ECOMMERCE_BASE_URL") }
        // Each secret may come from NAME or NAME_FILE (`EnvironmentReader.secret`).
        configuration.roktToken = try reader.secret("ROKT_API_TOKEN")
        configuration.roktParentAccountId = value("ROKT_PARENT_ACCOUNT_ID")
        configuration.ecommerceApiKey = try reader.secret("ROKT_ECOMMERCE_API_KEY")
        configuration.tagId = value("ROKT_TAG_ID")
        configuration.bootstrapApiKey = try reader.secret("GATEWAY_BOOTSTRAP_API_KEY")
        if let raw = value("WEBHOOK_ALLOW_PRIVATE_NETWORKS") {
            guard let flag = Bool(raw.lowercased()) else {
                throw ConfigurationError(variable: "WEBHOOK_ALLOW_PRIVATE_NETWORKS", message: "must be true or false, got \"\(raw)\"")
            }
            configuration.allowPrivateWebhooks = flag
        }
        if let raw = value("WEBHOOK_RETRY_SCHEDULE") {
            do { configuration.webhooks.schedule = try WebhookRetrySchedule(parsing: raw) } catch {
                throw ConfigurationError(variable: "WEBHOOK_RETRY_SCHEDULE", message: error.message)
            }
        }
        if let raw = value("WEBHOOK_DISABLE_AFTER") {
            guard let duration = WebhookRetrySchedule.duration(raw), duration >= .seconds(60) else {
                throw ConfigurationError(variable: "WEBHOOK_DISABLE_AFTER", message: "must be a duration of at least 60s like 120h or 5d, got \"\(raw)\"")
            }
            configuration.webhooks.disableAfter = duration
        }
        if let raw = value("WEBHOOK_SECRET_GRACE") {
            guard let duration = WebhookRetrySchedule.duration(raw), duration <= .seconds(7 * 86_400) else {
                throw ConfigurationError(variable: "WEBHOOK_SECRET_GRACE", message: "must be a duration of at most 7d like 24h, got \"\(raw)\"")
            }
            configuration.webhooks.secretGracePeriod = duration
        }
        if let number = try reader.integer("WEBHOOK_MAX_CONCURRENCY", 1...1024, "a number") { configuration.webhooks.maxConcurrentDeliveries = number }
        if let number = try reader.integer("WEBHOOK_ENDPOINT_CONCURRENCY", 1...64, "a number") { configuration.webhooks.maxConcurrentPerEndpoint = number }
        if let ms = try reader.integer("SYNC_WAIT_MS", 0...600_000, "milliseconds") { configuration.syncWait = .milliseconds(ms) }
        if let level = try reader.choice("LOG_LEVEL", LogLevel.self, "debug, info, warn or error") { configuration.logLevel = level }
        if let format = try reader.choice("LOG_FORMAT", LogFormat.self, "json or text") { configuration.logFormat = format }
        if let ms = try reader.integer("PLACEMENTS_TIMEOUT_MS", 1...10_000, "milliseconds") { configuration.placementsTimeout = .milliseconds(ms) }
        if let policy = try reader.choice("PLACEMENTS_ON_ERROR", PlacementsFailurePolicy.self, "skip or error") { configuration.placementsOnError = policy }
        if let raw = value("CORS_ALLOWED_ORIGINS") {
            do { configuration.cors = try CORSPolicy(parsing: raw) } catch {
                throw ConfigurationError(variable: "CORS_ALLOWED_ORIGINS", message: error.message)
            }
        }
        if let raw = value("TRUSTED_PROXIES") {
            do { configuration.trustedProxies = try TrustedProxies(parsing: raw) } catch {
                throw ConfigurationError(variable: "TRUSTED_PROXIES", message: error.message)
            }
        }
        try readRateLimits(into: &configuration.rateLimits, reader)
        configuration.auth = try readAuth(reader)
        try readEngine(into: &configuration.engine, reader)
        try readUpstream(into: &configuration, reader)
        try readRetention(into: &configuration.retention, reader)
        configuration.server.host = configuration.host
        configuration.server.port = configuration.port
        try readServer(into: &configuration.server, reader)
        configuration.eventLoops = try reader.integer("HTTP_EVENT_LOOPS", 1...1024, "a number")
        if let seconds = try reader.seconds("SHUTDOWN_DRAIN_SECONDS", 0...300) { configuration.shutdownDrain = seconds }
        // Requests still running when the listener closes get this long; then their connections are closed.
        if let seconds = try reader.seconds("SHUTDOWN_GRACE_SECONDS", 1...600) { configuration.server.shutdownGracePeriod = seconds }
        return configuration
    }

    /// The longest `Prefer: wait` a write honours: a second under the shutdown grace, so a request
    /// in flight at shutdown is answered (202 + Location at worst) before its connection is closed;
    /// never above 600 s.
    var longestWait: Duration {
        max(.zero, min(.seconds(600), server.shutdownGracePeriod - .seconds(1)))
    }

    /// HTTP_*: the server limits of docs/operations.md, each within bounds that keep the server usable.
    private static func readServer(into server: inout HTTPServer.Configuration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        if let bytes = try reader.integer("HTTP_MAX_HEADER_BYTES", 1024...1_048_576, "bytes") { server.parserLimits.maxHeaderBytes = bytes }
        if let bytes = try reader.integer("HTTP_MAX_BODY_BYTES", 1024...1 << 30, "bytes") { server.maxBodyBytes = bytes }
        // Request bodies held at once across all connections (503 beyond).
        if let mib = try reader.integer("HTTP_MAX_BODY_MEMORY_MB", 1...65_536, "mebibytes") { server.maxBodyMemoryBytes = mib << 20 }
        guard server.maxBodyBytes <= server.maxBodyMemoryBytes else {
            throw ConfigurationError(variable: "HTTP_MAX_BODY_BYTES", message: "must not exceed HTTP_MAX_BODY_MEMORY_MB (\(server.maxBodyMemoryBytes >> 20))")
        }
        if let seconds = try reader.integer("HTTP_HEADER_TIMEOUT_SECONDS", 1...300, "seconds") { server.headerReadTimeout = .seconds(seconds) }
        if let seconds = try reader.integer("HTTP_BODY_TIMEOUT_SECONDS", 1...3600, "seconds") { server.bodyReadTimeout = .seconds(seconds) }
        if let seconds = try reader.integer("HTTP_IDLE_TIMEOUT_SECONDS", 1...3600, "seconds") { server.idleTimeout = .seconds(seconds) }
        if let seconds = try reader.integer("HTTP_WRITE_TIMEOUT_SECONDS", 1...3600, "seconds") { server.writeTimeout = .seconds(seconds) }
        if let count = try reader.integer("HTTP_MAX_CONNECTIONS", 1...1_000_000, "a number") { server.maxConnections = count }
    }

    /// ENGINE_* and RETRY_*: whole numbers within bounds, each refused by name when not.
    private static func readEngine(into engine: inout EngineConfiguration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        if let jobs = try reader.integer("ENGINE_MAX_CONCURRENT_JOBS", 1...1024, "a number") { engine.maxConcurrentJobs = jobs }
        if let jobs = try reader.integer("ENGINE_MIN_CONCURRENT_JOBS", 1...1024, "a number") { engine.minConcurrentJobs = jobs }
        guard engine.minConcurrentJobs <= engine.maxConcurrentJobs else {
            throw ConfigurationError(variable: "ENGINE_MIN_CONCURRENT_JOBS", message: "must not exceed ENGINE_MAX_CONCURRENT_JOBS (\(engine.maxConcurrentJobs))")
        }
        if let ms = try reader.integer("ENGINE_COALESCING_WINDOW_MS", 0...1000, "milliseconds") { engine.coalescingWindow = .milliseconds(ms) }
        if let bound = try reader.integer("ENGINE_MAX_QUEUED_OPERATIONS", 1...10_000_000, "a number") { engine.maxQueuedOperations = bound }
        // A job of a process that died is taken by another after this long (replicas: a SIGKILLed one's work).
        if let seconds = try reader.integer("ENGINE_LEASE_SECONDS", 5...3600, "seconds") { engine.lease = .seconds(seconds) }
        if let ms = try reader.integer("RETRY_BASE_MS", 1...600_000, "milliseconds") { engine.retry.base = .milliseconds(ms) }
        if let ms = try reader.integer("RETRY_CAP_MS", 1...86_400_000, "milliseconds") { engine.retry.cap = .milliseconds(ms) }
        guard engine.retry.base <= engine.retry.cap else {
            throw ConfigurationError(variable: "RETRY_BASE_MS", message: "must not exceed RETRY_CAP_MS (\(engine.retry.cap.milliseconds))")
        }
        // A change still failing after a day is reported failed rather than applied late.
        if let hours = try reader.integer("RETRY_MAX_AGE_HOURS", 1...24, "hours") { engine.retry.maxAge = .seconds(hours * 3600) }
    }

    /// OPERATIONS_RETENTION and WEBHOOK_RETENTION: durations like `720h` or `30d`. Operations stay at
    /// least the 24 h an Idempotency-Key replays them.
    private static func readRetention(into retention: inout RetentionConfiguration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        let longest: Duration = .seconds(3650 * 86_400)
        if let raw = reader.value("OPERATIONS_RETENTION") {
            guard let duration = WebhookRetrySchedule.duration(raw), duration >= .seconds(86_400), duration <= longest else {
                throw ConfigurationError(variable: "OPERATIONS_RETENTION", message: "must be a duration from 24h to 3650d like 720h or 30d, got \"\(raw)\"")
            }
            retention.operations = duration
        }
        if let raw = reader.value("WEBHOOK_RETENTION") {
            guard let duration = WebhookRetrySchedule.duration(raw), duration >= .seconds(3600), duration <= longest else {
                throw ConfigurationError(variable: "WEBHOOK_RETENTION", message: "must be a duration from 1h to 3650d like 72h or 30d, got \"\(raw)\"")
            }
            retention.webhooks = duration
        }
    }

    /// `http://` only for loopback (tests, the embedded sandbox); everything else must be https.
    static func checkedURL(_ raw: String, variable: String) throws(ConfigurationError) -> String {
        guard let url = ClientURL(raw) else { throw ConfigurationError(variable: variable, message: "must be an http(s) URL, got \"\(raw)\"") }
        if !url.isTLS && !["127.0.0.1", "localhost", "::1"].contains(url.host) && !url.host.hasPrefix("127.") {
            throw ConfigurationError(variable: variable, message: "must use https (http:// is allowed only for loopback), got \"\(raw)\"")
        }
        return raw.hasSuffix("/") ? String(raw.dropLast()) : raw
    }
}

/// A configuration value that cannot be used; the message never includes secret values.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let message: String
    public var description: String { "\(variable) \(message)" }
}

/// Reads one variable at a time; blank counts as unset, and a malformed value is an error
/// naming the variable and what it must be.
struct EnvironmentReader {
    let environment: [String: String]

    func value(_ name: String) -> String? {
        guard let raw = environment[name]?.trimmingHTTPWhitespace(), !raw.isEmpty else { return nil }
        return raw
    }

    /// A whole number within `range`; `unit` says what it counts ("milliseconds", "a number").
    func integer(_ name: String, _ range: ClosedRange<Int>, _ unit: String) throws(ConfigurationError) -> Int? {
        guard let raw = value(name) else { return nil }
        guard let number = Int(raw), range.contains(number) else {
            throw ConfigurationError(variable: name, message: "must be \(unit) between \(range.lowerBound) and \(range.upperBound), got \"\(raw)\"")
        }
        return number
    }

    /// A number of seconds within `range`, fractions allowed (`0.5`).
    func seconds(_ name: String, _ range: ClosedRange<Double>) throws(ConfigurationError) -> Duration? {
        guard let raw = value(name) else { return nil }
        guard let number = Double(raw), number.isFinite, range.contains(number) else {
            throw ConfigurationError(
                variable: name, message: "must be seconds between \(Int(range.lowerBound)) and \(Int(range.upperBound)), got \"\(raw)\"")
        }
        return .milliseconds(Int((number * 1000).rounded()))
    }

    /// One of an enumeration's raw values, case-insensitively.
    func choice<T: RawRepresentable>(_ name: String, _ type: T.Type, _ allowed: String) throws(ConfigurationError) -> T? where T.RawValue == String {
        guard let raw = value(name) else { return nil }
        guard let choice = T(rawValue: raw.lowercased()) else {
            throw ConfigurationError(variable: name, message: "must be \(allowed), got \"\(raw)\"")
        }
        return choice
    }
}
