import HTTP
import Synchronization

/// Delivers committed webhook deliveries, at least once.
///
/// Guarantees: a delivery is attempted only after the transaction that created it committed;
/// each attempt holds a lease in the store, so deliveries of a process that died (kill -9) are
/// attempted again when the next one starts (`start` ends foreign leases) — the receiver may see
/// an event twice and deduplicates on `webhook-id`; at most `maxConcurrentDeliveries` attempts
/// run at once and at most `maxConcurrentPerEndpoint` to one endpoint, so a slow endpoint
/// cannot hold up the others; every attempt is logged with its outcome; the URL's host is
/// resolved and vetted (SSRF guard) at every attempt and the connection goes to the vetted
/// address; redirects are not followed.
public final class WebhookDispatcher: Sendable {
    private struct State {
        var stopping = false
        var scheduler: Task<Void, Never>?
        var inFlight: [String: Int] = [:]
        var attempts: [String: Task<Void, Never>] = [:]
    }

    let store: any WebhookStore & CommitFeed
    let clock: any WallClock
    let configuration: WebhookConfiguration
    let logger: Logger
    let owner: String
    let metrics: GatewayMetrics
    /// 64 random bits per call: the span ids of attempts (and trace ids of events with none).
    private let random: @Sendable () -> UInt64
    private let http: HTTPClient
    private let wake = WakeSignal()
    private let state = Mutex(State())
    private let observation = Mutex<CommitObservation?>(nil)

    init(
        store: any WebhookStore & CommitFeed, clock: any WallClock, configuration: WebhookConfiguration, allowPrivateNetworks: Bool,
        logger: Logger, group: EventLoopGroup, metrics: GatewayMetrics,
        random: @escaping @Sendable () -> UInt64 = {
            var system = SystemRandomNumberGenerator(); return system.next()
        }
    ) {
        self.random = random
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        owner = Identifiers.prefixed("webhooks_", now: clock.nowMillis())
        var client = HTTPClient.Configuration()
        client.requestTimeout = configuration.timeout
        client.connectTimeout = min(configuration.timeout, .seconds(5))
        client.maxConnectionsPerHost = configuration.maxConcurrentPerEndpoint
        client.maxResponseBodyBytes = configuration.maxResponseBytes
        client.userAgent = "rokt-gateway-webhooks"
        if !allowPrivateNetworks { client.addressPolicy = { NetworkAddressClass.classify($0).refusal } }
        // Its own client: its own pools, limits and address policy, apart from the Rokt traffic.
        http = HTTPClient(configuration: client, group: group)
    }

    /// Takes over the deliveries leased by earlier (dead) processes and starts dispatching.
    public func start() async throws {
        try await store.releaseForeignDeliveryLeases(owner: owner)
        let wake = self.wake
        let observation = store.observe { commit in if commit == .deliveriesDue { wake.signal() } }
        self.observation.withLock { $0 = observation }
        let task = Task { await self.schedule() }
        state.withLock { $0.scheduler = task }
    }

    /// Stops claiming, lets attempts in flight finish (up to `grace`, then cancels them), hands leases back.
    public func shutdown(grace: Duration = .seconds(5)) async {
        let scheduler = state.withLock { state in
            state.stopping = true
            return state.scheduler
        }
        observation.withLock { $0 }?.cancel()
        wake.signal()
        await scheduler?.value
        let attempts = state.withLock { Array($0.attempts.values) }
        await awaitOrCancel(attempts, by: ContinuousClock.now + grace)
        do { try await store.releaseAllDeliveries(owner: owner) } catch {
            // Their leases expire instead; the deliveries are attempted again then.
            logger.error("handing the delivery leases back failed", ["error": String(describing: type(of: error))])
        }
        http.shutdown()
    }

    private static let minimumWait: Int64 = 20

    /// A scheduler step's store call; a failure is logged and the loop goes on (it looks again shortly).
    private func scheduling<T: Sendable>(_ step: String, _ body: () async throws -> T) async -> T? {
        do { return try await body() } catch {
            logger.error("webhook scheduling failed while \(step)", ["error": String(describing: type(of: error))])
            return nil
        }
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func schedule() async {
        let firstDelay = configuration.schedule.delays.first?.milliseconds ?? 0
        while !isStopping {
            let (inFlight, running) = state.withLock { ($0.inFlight, $0.attempts.count) }
            let capacity = configuration.maxConcurrentDeliveries - running
            var claimedAll = false
            // Look on a reader first: most wake-ups find nothing due, and a claim is a write.
            let due = await scheduling("reading the next due delivery") { try await store.nextDeliveryDue(firstDelay: firstDelay) } ?? nil
            if capacity > 0, let due, due <= clock.nowMillis() {
                let now = clock.nowMillis()
                let (owner, leaseUntil, perEndpoint) = (self.owner, now + configuration.lease.milliseconds, configuration.maxConcurrentPerEndpoint)
                let claimed =
                    await scheduling("claiming deliveries") {
                        try await store.claimDeliveries(
                            now: now, firstDelay: firstDelay, leaseUntil: leaseUntil, owner: owner,
                            limit: capacity, perEndpointLimit: perEndpoint, inFlight: inFlight)
                    } ?? []
                for delivery in claimed { launch(delivery) }
                claimedAll = !claimed.isEmpty && claimed.count == capacity
            }
            if claimedAll { continue }
            let nextDue = await scheduling("reading the next due delivery") { try await store.nextDeliveryDue(firstDelay: firstDelay) } ?? nil
            let idle = configuration.idlePoll.milliseconds
            // Due but not claimed means every such endpoint is at its bound: an attempt ending wakes
            // us; the floor keeps a race with a just-due delivery from spinning the loop.
            await wake.wait(timeout: .milliseconds(nextDue.map { max(Self.minimumWait, min($0 - clock.nowMillis(), idle)) } ?? idle))
        }
    }

    private func launch(_ delivery: ClaimedDelivery) {
        state.withLock { state in
            state.inFlight[delivery.endpointId, default: 0] += 1
            state.attempts[delivery.id] = Task { await self.attempt(delivery) }
        }
    }

    private func attempt(_ delivery: ClaimedDelivery) async {
        defer {
            state.withLock { state in
                state.inFlight[delivery.endpointId, default: 1] -= 1
                if state.inFlight[delivery.endpointId] == 0 { state.inFlight[delivery.endpointId] = nil }
                state.attempts[delivery.id] = nil
            }
            wake.signal()
        }
        // Each attempt is a span in the trace of the operation that caused the event.
        let trace = TraceContext.continuing(delivery.trace, requestId: Identifiers.requestId(now: clock.nowMillis()), random: random)
        do {
            try await TraceContext.withCurrent(trace) { try await send(delivery) }
        } catch {
            // The lease runs out and the delivery is attempted again: at least once.
            logger.error("webhook attempt not recorded", ["deliveryId": delivery.id, "error": String(describing: type(of: error))])
        }
    }

    private func send(_ delivery: ClaimedDelivery) async throws {
        let loaded = try await store.attemptInput(delivery)
        guard let endpoint = loaded.endpoint, endpoint.disabledAt == nil, let body = loaded.body else {
            try await store.releaseDelivery(delivery.id)
            return
        }
        let startedAt = clock.nowMillis()
        let timestamp = startedAt / 1000
        var headers: HTTPHeaders = [
            "Content-Type": "application/json",
            "webhook-id": delivery.eventId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": WebhookSignature.header(
                id: delivery.eventId, timestamp: timestamp, body: body,
                keys: endpoint.signingKeys(now: startedAt)),
        ]
        TraceContext.current?.propagate(into: &headers)
        let started = ContinuousClock.now
        let (status, snippet, failure, failureKind) = await post(body, to: endpoint.url, headers: headers)
        metrics.recordWebhookAttempt(WebhookAttemptOutcome(status: status, failure: failureKind))
        let durationMs = (ContinuousClock.now - started).milliseconds
        let now = clock.nowMillis()
        let (schedule, disableAfter) = (configuration.schedule, configuration.disableAfter)
        let attempt = WebhookAttempt(at: startedAt, status: status, durationMs: durationMs, response: snippet, error: failure)
        // The streak is read in the store's write, so concurrent attempts to one endpoint see each other's outcome.
        let decision = try await store.recordAttempt(attempt, of: delivery, now: now) { failingSince in
            var random = SystemRandomNumberGenerator()
            return DeliveryDecision.decide(
                status: status, attempts: delivery.attempts + 1, now: now, failingSince: failingSince,
                schedule: schedule, disableAfter: disableAfter, using: &random)
        }
        if let reason = decision.disableReason {
            logger.warn("webhook endpoint disabled", ["endpointId": delivery.endpointId, "reason": reason])
        }
    }

    /// One POST: the status (nil when no answer came), the first bytes of the answer, why it failed.
    private func post(
        _ body: [UInt8], to url: String, headers: HTTPHeaders
    ) async -> (status: Int?, snippet: String?, failure: String?, failureKind: HTTPClientError.Kind?) {
        do {
            let response = try await http.execute(
                HTTPClientRequest(method: .post, url: url, headers: headers, body: body),
                timeout: configuration.timeout)
            let code = response.status.code
            let snippet = response.body.isEmpty ? nil : String(decoding: response.body.prefix(configuration.responseSnippetBytes), as: UTF8.self)
            return (code, snippet, (300...399).contains(code) ? "redirects are not followed" : nil, nil)
        } catch {
            return (nil, nil, error.description, error.kind)
        }
    }
}
