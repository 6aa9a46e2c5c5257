import HTTP
import Rokt
import Synchronization

/// The process's metrics for `GET /metrics`, in the Prometheus conventions (README "Metrics"):
/// every name starts `rokt_gateway_`, counters end `_total`, durations are in seconds.
///
/// Recording is one short lock over small dictionaries keyed by strings that already exist (a
/// route template, a standard method's name, an endpoint template): no label value comes from a
/// caller, so the series stay bounded. Rendering, done per scrape, is where text is built. Gauges
/// that live in the store (operations by state, queued jobs) are read at scrape time
/// (`StoreGauges`), so they are right across restarts.
public final class GatewayMetrics: Sendable {
    /// Methods counted under their own name; any other token is `other`, so a caller cannot mint
    /// label values (one request with a 12 KB method would otherwise live in every scrape).
    static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]

    /// The `method` label of a request: its name when standard, else `other`.
    static func methodLabel(_ method: HTTPMethod) -> String {
        labelledMethods.contains(method.rawValue) ? method.rawValue : "other"
    }

    struct RouteKey: Hashable, Sendable {
        /// A standard method or `other` (`methodLabel`).
        let method: String
        /// The matched template (`/v1/merchants/{accountId}/controls`), never the raw path;
        /// `unmatched` for 404/405 answers of the router.
        let route: String
    }

    struct RouteCounters: Sendable {
        /// Requests by status class: index 0 is 1xx … index 4 is 5xx.
        var byClass = [Int](repeating: 0, count: 5)
        var duration = DurationHistogram()
    }

    struct UpstreamKey: Hashable, Sendable {
        /// `UpstreamEndpoint.label`: method and path template.
        let endpoint: String
        /// The HTTP status, nil when no answer came.
        let status: Int?
    }

    struct State: Sendable {
        var routes: [RouteKey: RouteCounters] = [:]
        var upstreamCalls: [UpstreamKey: Int] = [:]
        var upstreamDurations: [String: [String: DurationHistogram]] = [:]
        var placements: [PlacementsOutcome: Int] = [:]
        var webhookAttempts: [WebhookAttemptOutcome: Int] = [:]
        var retentionPurged: [RetentionKind: Int] = [:]
        var held: [UpstreamHoldReason: Int] = [:]
        var pauses = 0
        var limiterWait = DurationHistogram()
    }

    private let state = Mutex(State())

    public init() {}

    func recordRequest(method: HTTPMethod, route: String?, status: Int, duration: Duration) {
        let statusClass = min(max(status / 100, 1), 5) - 1
        let key = RouteKey(method: Self.methodLabel(method), route: route ?? "unmatched")
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            state.routes[key, default: RouteCounters()].byClass[statusClass] += 1
            state.routes[key, default: RouteCounters()].duration.observe(seconds)
        }
    }

    /// Told about every call the Rokt client makes (partnerships and placements).
    public func recordUpstream(_ call: UpstreamCall) {
        let endpoint = UpstreamEndpoint.label(method: call.method, path: call.path)
        let seconds = Double(call.durationMs) / 1000
        state.withLock { state in
            state.upstreamCalls[UpstreamKey(endpoint: endpoint, status: call.status), default: 0] += 1
            state.upstreamDurations[endpoint, default: [:]][StatusClass.label(call.status), default: DurationHistogram()].observe(seconds)
        }
    }

    /// Told about what the protection toward Rokt does (held calls, pauses, waits for a turn).
    func recordUpstreamProtection(_ event: UpstreamProtectionEvent) {
        switch event {
        case .held(let reason): state.withLock { $0.held[reason, default: 0] += 1 }
        case .paused: state.withLock { $0.pauses += 1 }
        case .waited(let wait):
            let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
            state.withLock { $0.limiterWait.observe(seconds) }
        case .circuitChanged: break
        }
    }

    func recordPlacements(_ outcome: PlacementsOutcome) {
        state.withLock { $0.placements[outcome, default: 0] += 1 }
    }

    func recordWebhookAttempt(_ outcome: WebhookAttemptOutcome) {
        state.withLock { $0.webhookAttempts[outcome, default: 0] += 1 }
    }

    func recordRetention(_ report: RetentionReport) {
        state.withLock { state in
            for kind in RetentionKind.allCases { state.retentionPurged[kind, default: 0] += kind.count(in: report) }
        }
    }

    /// The exposition text. `gauges` comes from the store (nil when it could not be read),
    /// `process` from /proc (nil where there is none), `upstream` from the Rokt client's
    /// protection and the engine's retry budget.
    func render(
        gauges: StoreGauges?, process: ProcessMetrics? = ProcessMetrics.read(), upstream: UpstreamGauges? = nil,
        callerLimits: RateLimitStatistics? = nil, engine: EngineGauges? = nil
    ) -> String {
        let state = state.withLock { $0 }
        var out = MetricsExposition()
        out.family("rokt_gateway_build_info", .gauge, "The running build: gateway version, Swift compiler, OpenSSL and SQLite versions (value 1).")
        out.sample(
            "rokt_gateway_build_info",
            [
                "version": GatewayVersion.string, "swift": GatewayVersion.swiftCompiler, "openssl": GatewayVersion.openSSL,
                "sqlite": GatewayStorage.engineVersion,
            ], 1)
        process?.write(to: &out)
        writeRequests(state, to: &out)
        writeUpstream(state, to: &out)
        writeProtection(state, upstream, to: &out)
        if let callerLimits { writeCallerLimits(callerLimits, to: &out) }
        if let engine {
            out.family(
                "rokt_gateway_engine_concurrency_limit", .gauge,
                "Jobs the engine works on at once, adapted to round times; below 1, one job part of the time.")
            out.sample("rokt_gateway_engine_concurrency_limit", [:], engine.concurrencyLimit)
            out.family(
                "rokt_gateway_replicas_working", .gauge, "Gateway processes heard working on the shared store lately, this one included.")
            out.sample("rokt_gateway_replicas_working", [:], Double(engine.replicasWorking))
        }
        out.family("rokt_gateway_placements_total", .counter, "POST /v1/placements/any answers by outcome (ok, degraded, timeout, error).")
        for outcome in PlacementsOutcome.allCases {
            out.sample("rokt_gateway_placements_total", ["outcome": outcome.rawValue], Double(state.placements[outcome] ?? 0))
        }
        out.family("rokt_gateway_webhook_delivery_attempts_total", .counter, "Webhook delivery attempts by outcome.")
        for outcome in WebhookAttemptOutcome.allCases {
            out.sample("rokt_gateway_webhook_delivery_attempts_total", ["outcome": outcome.rawValue], Double(state.webhookAttempts[outcome] ?? 0))
        }
        out.family("rokt_gateway_retention_purged_total", .counter, "Rows deleted by the retention sweep, by kind.")
        for kind in RetentionKind.allCases {
            out.sample("rokt_gateway_retention_purged_total", ["kind": kind.rawValue], Double(state.retentionPurged[kind] ?? 0))
        }
        writeStore(gauges, to: &out)
        return out.text
    }

    private func writeRequests(_ state: State, to out: inout MetricsExposition) {
        let routes = state.routes.sorted { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }
        out.family("rokt_gateway_http_requests_total", .counter, "HTTP requests answered, by method, route template and status class.")
        for (key, counters) in routes {
            for (index, count) in counters.byClass.enumerated() where count > 0 {
                out.sample(
                    "rokt_gateway_http_requests_total", ["method": key.method, "route": key.route, "status_class": "\(index + 1)xx"],
                    Double(count))
            }
        }
        out.family("rokt_gateway_http_request_duration_seconds", .histogram, "Time from routing to the response, by method and route template.")
        for (key, counters) in routes {
            out.histogram("rokt_gateway_http_request_duration_seconds", [("method", key.method), ("route", key.route)], counters.duration)
        }
    }

    private func writeUpstream(_ state: State, to out: inout MetricsExposition) {
        out.family("rokt_gateway_upstream_requests_total", .counter, "Calls to Rokt, by endpoint and HTTP status (error: no answer).")
        let calls = state.upstreamCalls.sorted { ($0.key.endpoint, $0.key.status ?? 0) < ($1.key.endpoint, $1.key.status ?? 0) }
        for (key, count) in calls {
            out.sample(
                "rokt_gateway_upstream_requests_total", ["endpoint": key.endpoint, "status": key.status.map(String.init) ?? "error"],
                Double(count))
        }
        out.family(
            "rokt_gateway_upstream_request_duration_seconds", .histogram,
            "Latency of calls to Rokt, by endpoint and status class (error: no answer).")
        for (endpoint, byClass) in state.upstreamDurations.sorted(by: { $0.key < $1.key }) {
            for (statusClass, histogram) in byClass.sorted(by: { $0.key < $1.key }) {
                out.histogram(
                    "rokt_gateway_upstream_request_duration_seconds", [("endpoint", endpoint), ("status_class", statusClass)], histogram)
            }
        }
    }

    private func writeCallerLimits(_ statistics: RateLimitStatistics, to out: inout MetricsExposition) {
        out.family("rokt_gateway_rate_limited_total", .counter, "Requests refused 429 rate_limited, by the caller's class.")
        for limitClass in RateLimitClass.allCases {
            out.sample("rokt_gateway_rate_limited_total", ["class": limitClass.rawValue], Double(statistics.limited[limitClass] ?? 0))
        }
        out.family("rokt_gateway_rate_limit_partitions", .gauge, "Caller budgets held in memory (at most RATE_LIMIT_MAX_PARTITIONS).")
        out.sample("rokt_gateway_rate_limit_partitions", [:], Double(statistics.partitions))
        out.family(
            "rokt_gateway_rate_limit_evictions_total", .counter, "Budgets forgotten while not full, to stay within RATE_LIMIT_MAX_PARTITIONS.")
        out.sample("rokt_gateway_rate_limit_evictions_total", [:], Double(statistics.evictions))
    }

    private func writeProtection(_ state: State, _ upstream: UpstreamGauges?, to out: inout MetricsExposition) {
        if let upstream {
            out.family("rokt_gateway_upstream_circuit_state", .gauge, "The circuit breaker toward Rokt: 0 closed, 1 half-open, 2 open.")
            out.sample("rokt_gateway_upstream_circuit_state", [:], Double(upstream.protection.circuitGauge))
            out.family("rokt_gateway_upstream_in_flight", .gauge, "Calls to Rokt in flight.")
            out.sample("rokt_gateway_upstream_in_flight", [:], Double(upstream.protection.inFlight))
            out.family("rokt_gateway_upstream_waiting", .gauge, "Calls waiting for their turn under the outbound limits.")
            out.sample("rokt_gateway_upstream_waiting", [:], Double(upstream.protection.waiting))
            out.family(
                "rokt_gateway_upstream_retry_budget_exhausted_total", .counter,
                "Job runs deferred because retries had spent their share of first attempts.")
            out.sample("rokt_gateway_upstream_retry_budget_exhausted_total", [:], Double(upstream.retryBudgetExhausted))
        }
        out.family(
            "rokt_gateway_upstream_calls_held_total", .counter,
            "Calls to Rokt held back and not sent, by reason (circuit_open, rokt_retry_after, limiter_wait).")
        for reason in UpstreamHoldReason.allCases {
            out.sample("rokt_gateway_upstream_calls_held_total", ["reason": reason.rawValue], Double(state.held[reason] ?? 0))
        }
        out.family("rokt_gateway_upstream_pauses_total", .counter, "Times Rokt's 429 Retry-After paused every call.")
        out.sample("rokt_gateway_upstream_pauses_total", [:], Double(state.pauses))
        out.family("rokt_gateway_upstream_limiter_wait_seconds", .histogram, "Time calls to Rokt waited for their turn under the outbound limits.")
        out.histogram("rokt_gateway_upstream_limiter_wait_seconds", [], state.limiterWait)
    }

    private func writeStore(_ gauges: StoreGauges?, to out: inout MetricsExposition) {
        out.family("rokt_gateway_store_up", .gauge, "Whether the store answered the scrape's read (1) or not (0).")
        out.sample("rokt_gateway_store_up", [:], gauges == nil ? 0 : 1)
        guard let gauges else { return }
        out.family("rokt_gateway_operations", .gauge, "Operations in the store, by state.")
        for state in ["queued", "running", "succeeded", "failed"] {
            out.sample("rokt_gateway_operations", ["state": state], Double(gauges.operationsByState[state] ?? 0))
        }
        out.family("rokt_gateway_jobs_queued", .gauge, "Merchant resources with work due (queued or backing off).")
        out.sample("rokt_gateway_jobs_queued", [:], Double(gauges.queuedJobs))
        out.family("rokt_gateway_webhook_deliveries_pending", .gauge, "Webhook deliveries not yet delivered nor given up.")
        out.sample("rokt_gateway_webhook_deliveries_pending", [:], Double(gauges.pendingWebhookDeliveries))
        out.family("rokt_gateway_webhook_endpoints_disabled", .gauge, "Webhook endpoints disabled (410 Gone, or failing too long).")
        out.sample("rokt_gateway_webhook_endpoints_disabled", [:], Double(gauges.disabledWebhookEndpoints))
    }
}

/// The engine's adaptive concurrency as a scrape reads it.
struct EngineGauges: Sendable {
    var concurrencyLimit: Double
    var replicasWorking: Int
}

/// The protection toward Rokt as a scrape reads it.
struct UpstreamGauges: Sendable {
    var protection: UpstreamProtectionSnapshot
    var retryBudgetExhausted: Int
}
