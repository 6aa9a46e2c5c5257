import HTTP
@testable import Rokt
import Testing
@testable import Gateway

/// The text-format writer and the renderer, without a server.
@Suite struct MetricsExpositionTests {
    @Test func labelValuesEscapeBackslashQuoteAndLineFeed() {
        var out = MetricsExposition()
        out.family("rokt_gateway_test_total", .counter, #"Help with "quotes", a \ and"# + "\na second line.")
        out.sample("rokt_gateway_test_total", ["route": "/a\\b\"c\nd", "plain": "x"], 3)
        #expect(
            out.text == """
                # HELP rokt_gateway_test_total Help with "quotes", a \\\\ and\\na second line.
                # TYPE rokt_gateway_test_total counter
                rokt_gateway_test_total{route="/a\\\\b\\"c\\nd",plain="x"} 3

                """)
        // A CRLF is one Character in Swift; its line feed must still be escaped.
        #expect(MetricsExposition.escapeLabel("a\r\nb") == "a\r\\nb")
        #expect(MetricsExposition.escapeLabel("/v1/merchants/{accountId}") == "/v1/merchants/{accountId}")
    }

    @Test func valuesAreWholeNumbersOrShortestDecimals() {
        #expect(MetricsExposition.format(12) == "12")
        #expect(MetricsExposition.format(0.25) == "0.25")
        #expect(MetricsExposition.format(1_796_433_309.5) == "1796433309.5")
        #expect(MetricsExposition.format(.infinity) == "+Inf")
        #expect(MetricsExposition.format(.nan) == "NaN")
    }

    @Test func histogramBucketsAreCumulativeAndEndWithInf() {
        var histogram = DurationHistogram()
        for seconds in [0.0005, 0.003, 0.003, 7, 42] { histogram.observe(seconds) }
        var out = MetricsExposition()
        out.histogram("h_seconds", [("route", "/x")], histogram)
        let lines = out.text.split(separator: "\n")
        #expect(lines.count == DurationHistogram.bounds.count + 3)
        #expect(lines.first == #"h_seconds_bucket{route="/x",le="0.001"} 1"#)
        #expect(lines.contains(#"h_seconds_bucket{route="/x",le="0.005"} 3"#))
        #expect(lines.contains(#"h_seconds_bucket{route="/x",le="5"} 3"#))
        #expect(lines.contains(#"h_seconds_bucket{route="/x",le="10"} 4"#))
        #expect(lines.contains(#"h_seconds_bucket{route="/x",le="+Inf"} 5"#))
        #expect(lines.contains(#"h_seconds_sum{route="/x"} 49.0065"#))
        #expect(lines.last == #"h_seconds_count{route="/x"} 5"#)
    }

    /// HELP and TYPE come once per family, right before its samples, even with many series.
    @Test func everyFamilyHasHelpAndTypeOnceBeforeItsSamples() throws {
        let metrics = GatewayMetrics()
        metrics.recordRequest(method: .get, route: "/b", status: 200, duration: .milliseconds(3))
        metrics.recordRequest(method: .post, route: "/a", status: 503, duration: .milliseconds(30))
        metrics.recordRequest(method: .get, route: nil, status: 404, duration: .microseconds(30))
        metrics.recordUpstream(Self.call("GET", "/v1/partnership/accounts/a-1/status", status: 200))
        metrics.recordUpstream(Self.call("PUT", "/v1/partnership/accounts/a-2/status?dry_run=true", status: nil))
        let text = metrics.render(gauges: StoreGauges(operationsByState: ["queued": 2], queuedJobs: 1, pendingWebhookDeliveries: 0, disabledWebhookEndpoints: 0))
        var current: String?
        var seen: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                let name = String(line.split(separator: " ")[2])
                #expect(seen.insert(name).inserted, "HELP twice for \(name)")
                current = name
            } else if line.hasPrefix("# TYPE ") {
                #expect(line.split(separator: " ")[2] == current.map { Substring($0) })
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = try #require(current)
                #expect(name == family || ["_bucket", "_sum", "_count"].contains { name == family + $0 }, "\(name) under \(family)")
            }
        }
        #expect(seen.contains("rokt_gateway_http_requests_total") && seen.contains("process_cpu_seconds_total"))
        #expect(seen.allSatisfy { $0.hasPrefix("rokt_gateway_") || $0.hasPrefix("process_") })
        // Series in a stable order: route, then method.
        let requests = text.split(separator: "\n").filter { $0.hasPrefix("rokt_gateway_http_requests_total{") }
        #expect(
            requests == [
                #"rokt_gateway_http_requests_total{method="POST",route="/a",status_class="5xx"} 1"#,
                #"rokt_gateway_http_requests_total{method="GET",route="/b",status_class="2xx"} 1"#,
                #"rokt_gateway_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 1"#,
            ])
        #expect(text.contains(#"rokt_gateway_upstream_requests_total{endpoint="PUT /v1/partnership/accounts/{accountId}/status",status="error"} 1"#))
        #expect(
            text.contains(
                #"rokt_gateway_upstream_request_duration_seconds_count{endpoint="GET /v1/partnership/accounts/{accountId}/status",status_class="2xx"} 1"#))
        #expect(text.contains(#"rokt_gateway_operations{state="queued"} 2"#) && text.contains("rokt_gateway_store_up 1\n"))
        #expect(!text.contains("a-1") && !text.contains("dry_run"))
    }

    @Test func outcomeCountersShowEveryOutcomeFromTheStart() {
        let metrics = GatewayMetrics()
        metrics.recordPlacements(.timeout)
        metrics.recordWebhookAttempt(WebhookAttemptOutcome(status: 410, failure: nil))
        var report = RetentionReport()
        report.operations = 7
        metrics.recordRetention(report)
        metrics.recordRetention(report)
        let text = metrics.render(gauges: nil, process: nil)
        #expect(text.contains(#"rokt_gateway_placements_total{outcome="ok"} 0"#))
        #expect(text.contains(#"rokt_gateway_placements_total{outcome="timeout"} 1"#))
        #expect(text.contains(#"rokt_gateway_webhook_delivery_attempts_total{outcome="gone"} 1"#))
        #expect(text.contains(#"rokt_gateway_webhook_delivery_attempts_total{outcome="refused"} 0"#))
        #expect(text.contains(#"rokt_gateway_retention_purged_total{kind="operations"} 14"#))
        #expect(text.contains(#"rokt_gateway_retention_purged_total{kind="inbound_requests"} 0"#))
        // No store: the store's gauges are left out and `store_up` says why.
        #expect(text.contains("rokt_gateway_store_up 0\n") && !text.contains("rokt_gateway_operations"))
        #expect(!text.contains("process_"))
        #expect(text.hasPrefix("# HELP rokt_gateway_build_info"))
        #expect(text.contains(#"rokt_gateway_build_info{version="\#(GatewayVersion.string)",swift=""#))
    }

    @Test func upstreamEndpointsAreTemplatesOfEveryRoktPath() {
        let cases: [(String, String, String)] = [
            ("GET", RoktPath.controls("acct-1"), "GET /v1/partnership/accounts/{accountId}/marketplacecontrolslists"),
            ("PUT", RoktPath.status("a.b~c") + "?dry_run=true", "PUT /v1/partnership/accounts/{accountId}/status"),
            ("GET", RoktPath.accounts + "?cursor=x", "GET /v1/partnership/accounts"),
            ("GET", RoktPath.account("7"), "GET /v1/partnership/accounts/{accountId}"),
            ("PUT", RoktPath.layout("7", "l-9"), "PUT /v1/partnership/accounts/{accountId}/layouts/{layoutId}"),
            ("GET", RoktPath.operation("op 1"), "GET /v1/partnership/operations/{operationId}"),
            ("POST", RoktPath.register, "POST /v1/accounts/register/partnership"),
            ("POST", RoktPath.privacyRequests, "POST /v1/partnership/network-privacy-requests"),
            ("POST", RoktPath.dataDeletion("7"), "POST /v1/partnership/accounts/{accountId}/data-deletion-requests"),
            ("POST", "/v1/Placements/any", "POST /v1/Placements/any"),
            ("GET", "/v1/partnership/accounts/7/unknown", "other"),
            ("GET", "/v1/partnership/accounts//status", "other"),
            ("BREW", RoktPath.pages("7"), "other /v1/partnership/accounts/{accountId}/pages"),
        ]
        for (method, path, label) in cases {
            #expect(UpstreamEndpoint.label(method: method, path: path) == label, "\(method) \(path)")
        }
        #expect(UpstreamEndpoint.templates.count == 12)
    }

    @Test func statusClassesAndWebhookOutcomes() {
        #expect([StatusClass.label(200), StatusClass.label(429), StatusClass.label(503), StatusClass.label(nil)] == ["2xx", "4xx", "5xx", "error"])
        let outcomes: [(Int?, HTTPClientError.Kind?, WebhookAttemptOutcome)] = [
            (204, nil, .delivered), (410, nil, .gone), (302, nil, .rejected), (500, nil, .rejected), (nil, .timedOut, .timeout),
            (nil, .connectTimeout, .timeout), (nil, .addressRefused, .refused), (nil, .connectFailed, .error), (nil, .tlsFailed, .error),
        ]
        for (status, failure, outcome) in outcomes {
            #expect(WebhookAttemptOutcome(status: status, failure: failure) == outcome)
        }
    }

    static func call(_ method: String, _ path: String, status: Int?) -> UpstreamCall {
        UpstreamCall(method: method, path: path, status: status, durationMs: 12, at: 0, error: status == nil ? "timedOut" : nil)
    }
}
