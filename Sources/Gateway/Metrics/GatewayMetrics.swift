import HTTP
import Synchronization

/// The process's counters for `GET /metrics` (Prometheus text exposition 0.0.4).
///
/// Recording is one short lock per request or upstream call over a small dictionary keyed by
/// strings that already exist (the route template, a standard method's name): no formatting and no
/// allocation on the request path once a route has been seen. Rendering, done per scrape, is
/// where text is built. Gauges that live in the store (operations by state, queued jobs) are
/// read at scrape time (`StoreGauges`), so they are right across replicas and restarts.
public final class GatewayMetrics: Sendable {
    /// Upper bounds of the request duration histogram, in seconds.
    static let durationBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

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
        /// The matched template (`/v1/merchants/{accountId}/controls`), never the raw path, so the
        /// label set stays bounded; `unmatched` for 404/405 answers of the router.
        let route: String
    }

    struct RouteCounters: Sendable {
        /// Requests by status class: index 0 is 1xx … index 4 is 5xx.
        var byClass = [Int](repeating: 0, count: 5)
        /// Cumulative counts would be built at render time; here each request increments one bucket
        /// (the last slot is +Inf).
        var buckets = [Int](repeating: 0, count: GatewayMetrics.durationBuckets.count + 1)
        var durationSum: Double = 0
    }

    struct UpstreamKey: Hashable, Sendable {
        let method: String
        /// The HTTP status, or `error` when no answer came (timeout, connection failure).
        let status: Int?
    }

    private let routes = Mutex<[RouteKey: RouteCounters]>([:])
    private let upstream = Mutex<[UpstreamKey: Int]>([:])

    public init() {}

    func recordRequest(method: HTTPMethod, route: String?, status: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let bucket = Self.durationBuckets.firstIndex { seconds <= $0 } ?? Self.durationBuckets.count
        let statusClass = min(max(status / 100, 1), 5) - 1
        routes.withLock { routes in
            routes[RouteKey(method: Self.methodLabel(method), route: route ?? "unmatched"), default: RouteCounters()].record(
                statusClass: statusClass, bucket: bucket, seconds: seconds)
        }
    }

    /// Told about every call the Rokt client makes (partnerships and placements).
    public func recordUpstream(method: String, status: Int?) {
        upstream.withLock { $0[UpstreamKey(method: method, status: status), default: 0] += 1 }
    }

    /// The exposition text; `gauges` comes from the store, nil when it could not be read.
    func render(gauges: StoreGauges?) -> String {
        let routes = routes.withLock { $0 }
        let upstream = upstream.withLock { $0 }
        var out = ""
        out += "# HELP gateway_http_requests_total HTTP requests answered, by method, route template and status class.\n"
        out += "# TYPE gateway_http_requests_total counter\n"
        let sortedRoutes = routes.sorted { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }
        for (key, counters) in sortedRoutes {
            for (index, count) in counters.byClass.enumerated() where count > 0 {
                out += "gateway_http_requests_total{method=\"\(key.method)\",route=\"\(Self.escape(key.route))\",status_class=\"\(index + 1)xx\"} \(count)\n"
            }
        }
        out += "# HELP gateway_http_request_duration_seconds Time from routing to the response, by route template.\n"
        out += "# TYPE gateway_http_request_duration_seconds histogram\n"
        for (key, counters) in sortedRoutes {
            let labels = "method=\"\(key.method)\",route=\"\(Self.escape(key.route))\""
            var cumulative = 0
            for (index, bound) in Self.durationBuckets.enumerated() {
                cumulative += counters.buckets[index]
                out += "gateway_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            cumulative += counters.buckets[Self.durationBuckets.count]
            out += "gateway_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(cumulative)\n"
            out += "gateway_http_request_duration_seconds_sum{\(labels)} \(counters.durationSum)\n"
            out += "gateway_http_request_duration_seconds_count{\(labels)} \(cumulative)\n"
        }
        out += "# HELP gateway_upstream_calls_total Calls to Rokt, by method and HTTP status (error: no answer).\n"
        out += "# TYPE gateway_upstream_calls_total counter\n"
        for (key, count) in upstream.sorted(by: { ($0.key.method, $0.key.status ?? 0) < ($1.key.method, $1.key.status ?? 0) }) {
            out += "gateway_upstream_calls_total{method=\"\(key.method)\",status=\"\(key.status.map(String.init) ?? "error")\"} \(count)\n"
        }
        func gauge(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        gauge("gateway_store_up", "Whether the store answered the scrape's read (1) or not (0).", gauges == nil ? 0 : 1)
        if let gauges {
            out += "# HELP gateway_operations Operations in the store, by state.\n"
            out += "# TYPE gateway_operations gauge\n"
            for state in ["queued", "running", "succeeded", "failed"] {
                out += "gateway_operations{state=\"\(state)\"} \(gauges.operationsByState[state] ?? 0)\n"
            }
            gauge("gateway_jobs_queued", "Merchant resources with work due (queued or backing off).", gauges.queuedJobs)
            gauge("gateway_webhook_deliveries_pending", "Webhook deliveries not yet delivered nor given up.", gauges.pendingWebhookDeliveries)
            gauge("gateway_webhook_endpoints_disabled", "Webhook endpoints disabled (410 Gone, or failing too long).", gauges.disabledWebhookEndpoints)
        }
        return out
    }

    /// Label values escape `\`, `"` and newlines (exposition format 0.0.4).
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}

extension GatewayMetrics.RouteCounters {
    mutating func record(statusClass: Int, bucket: Int, seconds: Double) {
        byClass[statusClass] += 1
        buckets[bucket] += 1
        durationSum += seconds
    }
}
