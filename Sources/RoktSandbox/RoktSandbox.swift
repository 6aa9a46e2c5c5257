import FoundationEssentials
import HTTP
import Synchronization

/// A simulated Rokt: the Partnerships API and Ecommerce `POST /v1/Placements/any`, served
/// over our HTTP server, with fault injection. Usable in-process (tests, `rokt-gateway serve
/// --sandbox`) and standalone (`rokt-sandbox`).
///
/// Guarantees: the wire format of docs/sandbox.md and openapi/rokt-partnerships.yaml; all
/// state in memory behind one lock, so concurrent requests see atomic changes; `reset()`
/// returns to the seed; nothing is shared between two instances.
public final class RoktSandbox: Sendable {
    public struct Configuration: Sendable {
        public var seed: SandboxSeed
        /// Drives the idempotency window and timestamps; a `ManualSandboxClock` in tests.
        public var clock: any SandboxClock
        /// The primary manager's bearer token and parent account id. The second manager
        /// (`SandboxDemo.otherToken` → `other-parent`) always exists.
        public var token = SandboxDemo.token
        public var parentAccountId = SandboxDemo.parentAccountId
        public var ecommerceApiKey = SandboxDemo.ecommerceApiKey
        public var tagId = SandboxDemo.tagId
        /// `POST /v1/Placements/any` answers `result` from here per pageIdentifier…
        public var placementResults: [String: Bool] = [:]
        /// …and this for any other pageIdentifier.
        public var defaultPlacementResult = true
        public var verticalMapping = PartnerVerticalMapping.demo
        /// The request log keeps the newest this many entries.
        public var requestLogLimit = 10_000
        /// At most this many operations are remembered (the oldest finished ones go first).
        public var operationLimit = 50_000
        /// At most this many idempotency records are kept (expired ones, then the oldest, go first).
        public var idempotencyLimit = 50_000
        /// How successful Partnerships answers are shaped where Rokt's documents leave it open;
        /// `POST /__sandbox/shapes` changes it while running.
        public var responseShapes = SandboxResponseShapes.standard
        /// Serves `/__sandbox/…` (admin JSON, no auth).
        public var adminRoutesEnabled = true
        /// Seeds fault probabilities and request ids; random when nil.
        public var randomSeed: UInt64?
        /// Limits and timeouts of the HTTP server; host and port come from `start`.
        public var server = HTTPServer.Configuration()

        public init(seed: SandboxSeed = .demo, clock: any SandboxClock = SystemSandboxClock()) {
            self.seed = seed
            self.clock = clock
            server.shutdownGracePeriod = .seconds(2)
        }
    }

    public let configuration: Configuration
    let engine: SandboxEngine
    /// The request handler (routing included), for serving without sockets.
    public let handler: HTTPHandler
    private let running = Mutex<(server: HTTPServer, baseURL: String)?>(nil)

    /// Injects faults; see `SandboxFault` for what each kind does.
    public var faults: SandboxFaults { SandboxFaults(engine: engine) }

    /// The response shapes in force; setting them takes effect with the next answer.
    public var responseShapes: SandboxResponseShapes {
        get { engine.state.withLock { $0.shapes } }
        set { engine.state.withLock { $0.setShapes(newValue) } }
    }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        var credentials = [SandboxDemo.otherToken: SandboxDemo.otherParentAccountId]
        credentials[configuration.token] = configuration.parentAccountId
        let settings = SandboxSettings(
            seed: configuration.seed, credentials: credentials, primaryParentAccountId: configuration.parentAccountId,
            mapping: configuration.verticalMapping, ecommerceApiKey: configuration.ecommerceApiKey, tagId: configuration.tagId,
            placementResults: configuration.placementResults, defaultPlacementResult: configuration.defaultPlacementResult,
            requestLogLimit: configuration.requestLogLimit, operationLimit: configuration.operationLimit,
            idempotencyLimit: configuration.idempotencyLimit, shapes: configuration.responseShapes)
        var generator = SystemRandomNumberGenerator()
        let seed = configuration.randomSeed ?? generator.next()
        engine = SandboxEngine(state: SandboxState(settings: settings, now: configuration.clock.now, randomSeed: seed), clock: configuration.clock)
        handler = SandboxRoutes.handler(engine: engine, adminEnabled: configuration.adminRoutesEnabled)
    }

    // MARK: Lifecycle

    /// Thrown by `start` when the sandbox is already serving.
    public struct AlreadyStarted: Error, Sendable {}

    /// Binds and serves; returns the bound port (useful with port 0). On `group` when given
    /// (left running at shutdown), else on loops of its own. One server at a time: a second
    /// `start` before `shutdown` throws `AlreadyStarted`.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0, group: EventLoopGroup? = nil) throws -> Int {
        guard running.withLock({ $0 == nil }) else { throw AlreadyStarted() }
        var serverConfiguration = configuration.server
        serverConfiguration.host = host
        serverConfiguration.port = port
        let handler = self.handler
        let server = try HTTPServer(configuration: serverConfiguration, group: group, handler: handler)
        let bound = try server.start()
        let shownHost = ["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        running.withLock { $0 = (server, "http://\(shownHost):\(bound)") }
        return bound
    }

    /// `http://host:port`, without a trailing slash; empty before `start`.
    public var baseURL: String { running.withLock { $0?.baseURL ?? "" } }

    /// Stops serving (in-flight requests finish within the grace period).
    public func shutdown() async {
        guard
            let server = running.withLock({ current -> HTTPServer? in
                defer { current = nil }
                return current?.server
            })
        else { return }
        await server.shutdown()
    }

    // MARK: State for assertions

    /// Back to the seed: accounts, operations, idempotency records, faults and request log.
    public func reset() {
        let reading = engine.clock.now
        engine.state.withLock { $0.reset(now: $0.now(reading)) }
    }

    /// Every logged request (admin ones excluded), oldest first.
    public var requestLog: [SandboxLoggedRequest] { engine.state.withLock { $0.log.entries } }

    public func resetRequestLog() { engine.state.withLock { $0.log.removeAll() } }

    /// Moves the sandbox's time forward (on top of the injected clock), like `POST /__sandbox/clock/advance`.
    public func advanceClock(by seconds: Double) {
        guard seconds > 0 else { return }
        engine.state.withLock { $0.clockOffset += seconds }
    }

    /// The sandbox's current time.
    public var now: Date { engine.now }

    public func account(_ accountId: String) -> ManagedAccount? { engine.state.withLock { $0.world.accounts[accountId] } }

    public func controls(of accountId: String) -> MarketplaceControls? { account(accountId)?.controls }

    /// What `GET …/status` would answer (non-archived variants only).
    public func status(of accountId: String) -> StatusCascade? { account(accountId)?.statusCascade }

    /// Every variant of the account, archived ones included.
    public func variants(of accountId: String) -> [PageVariant]? { account(accountId)?.allVariants }

    public func layout(_ layoutId: String, of accountId: String) -> Layout? {
        account(accountId)?.pages.first { $0.layout.layoutId == layoutId }?.layout
    }

    public func operation(_ operationId: String) -> SandboxOperation? { engine.state.withLock { $0.operations[operationId] } }

    /// The accounts a manager manages, by accountId.
    public func accounts(managedBy parentAccountId: String) -> [ManagedAccount] {
        engine.state.withLock { $0.world.accounts.values.filter { $0.parentAccountId == parentAccountId } }
            .sorted { $0.accountId < $1.accountId }
    }
}
