import Foundation
import HTTP
import JSON
import RoktSandbox
import Testing
@testable import Gateway

/// `/metrics` of a real gateway after real traffic, read by the Prometheus client's own parser.
@Suite struct MetricsScrapeTests {
    /// The families every scrape has, with their type and the label names of their series.
    static let expected: [(name: String, type: String, labels: Set<String>)] = [
        ("rokt_gateway_build_info", "gauge", ["version", "swift", "openssl", "sqlite"]),
        ("process_cpu_seconds", "counter", []),
        ("process_resident_memory_bytes", "gauge", []),
        ("process_virtual_memory_bytes", "gauge", []),
        ("process_open_fds", "gauge", []),
        ("process_max_fds", "gauge", []),
        ("process_start_time_seconds", "gauge", []),
        ("rokt_gateway_http_requests", "counter", ["method", "route", "status_class"]),
        ("rokt_gateway_http_request_duration_seconds", "histogram", ["method", "route"]),
        ("rokt_gateway_upstream_requests", "counter", ["endpoint", "status"]),
        ("rokt_gateway_upstream_request_duration_seconds", "histogram", ["endpoint", "status_class"]),
        ("rokt_gateway_upstream_circuit_state", "gauge", []),
        ("rokt_gateway_upstream_in_flight", "gauge", []),
        ("rokt_gateway_upstream_waiting", "gauge", []),
        ("rokt_gateway_upstream_retry_budget_exhausted", "counter", []),
        ("rokt_gateway_upstream_calls_held", "counter", ["reason"]),
        ("rokt_gateway_upstream_pauses", "counter", []),
        ("rokt_gateway_upstream_limiter_wait_seconds", "histogram", []),
        ("rokt_gateway_rate_limited", "counter", ["class"]),
        ("rokt_gateway_rate_limit_partitions", "gauge", []),
        ("rokt_gateway_engine_concurrency_limit", "gauge", []),
        ("rokt_gateway_replicas_working", "gauge", []),
        ("rokt_gateway_rate_limit_evictions", "counter", []),
        ("rokt_gateway_placements", "counter", ["outcome"]),
        ("rokt_gateway_webhook_delivery_attempts", "counter", ["outcome"]),
        ("rokt_gateway_retention_purged", "counter", ["kind"]),
        ("rokt_gateway_store_up", "gauge", []),
        ("rokt_gateway_operations", "gauge", ["state"]),
        ("rokt_gateway_jobs_queued", "gauge", []),
        ("rokt_gateway_webhook_deliveries_pending", "gauge", []),
        ("rokt_gateway_webhook_endpoints_disabled", "gauge", []),
    ]

    @Test func aScrapeAfterRealTrafficParsesWithTheExpectedFamilies() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        defer { group.shutdown() }
        do {
            try await withGateway(configure: { configuration in
                WebhookEndToEndTests.fastWebhooks(&configuration)
                configuration.metricsPort = 0
                configuration.placementsTimeout = .seconds(10)
            }) { gateway in
                let endpoint = try await WebhookEndToEndTests.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])
                let endpointId = try #require(endpoint["id"]?.stringValue)
                let write = try await gateway.call(
                    .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: WebhookEndToEndTests.addVertical)
                #expect([200, 202].contains(write.status))  // 202 on a loaded machine: the delivery below waits for the ending
                let placements = try await gateway.call(.post, "/v1/placements/any", json: #"{"pageIdentifier":"checkout"}"#)
                #expect(placements.status == 200)
                #expect(try await gateway.call(.get, "/v1/operations/op_unknown").status == 404)
                // The attempt is counted before the store records it: once the log says delivered, it is in.
                try await Self.waitUntilDelivered(gateway, endpointId: endpointId)

                // Not on the public port when METRICS_PORT is set.
                #expect(try await gateway.call(.get, "/metrics", anonymous: true).status == 404)
                let metricsPort = try #require(gateway.app.metricsPort)
                #expect(metricsPort != gateway.port)
                let scrape = try await gateway.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"))
                #expect(scrape.status.code == 200)
                #expect(scrape.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
                // Only /metrics there.
                #expect(try await gateway.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/healthz")).status.code == 404)

                let families = try await PrometheusParser.parse(String(decoding: scrape.body, as: UTF8.self))
                for (name, type, labels) in Self.expected {
                    let family = try #require(families[name], "no family \(name)")
                    #expect(family.type == type, "\(name)")
                    #expect(!family.help.isEmpty, "\(name) has no HELP")
                    #expect(!family.samples.isEmpty, "\(name) has no sample")
                    for sample in family.samples {
                        #expect(Set(sample.labels.keys).subtracting(["le"]) == labels, "\(sample.name) \(sample.labels)")
                    }
                    if type == "histogram" { try Self.checkHistogram(family) }
                }
                #expect(Set(families.keys).subtracting(Self.expected.map(\.name)).isEmpty, "undocumented families")

                func value(_ name: String, _ labels: [String: String]) -> Double? {
                    families.values.lazy.flatMap(\.samples).first { $0.name == name && $0.labels == labels }?.value
                }
                #expect(value("rokt_gateway_build_info", families["rokt_gateway_build_info"]?.samples.first?.labels ?? [:]) == 1)
                #expect(families["rokt_gateway_build_info"]?.samples.first?.labels["version"] == GatewayVersion.string)
                #expect(value("rokt_gateway_placements_total", ["outcome": "ok"]) == 1)
                #expect(value("rokt_gateway_placements_total", ["outcome": "degraded"]) == 0)
                #expect((value("rokt_gateway_webhook_delivery_attempts_total", ["outcome": "delivered"]) ?? 0) >= 1)
                let controls = "PUT /v1/partnership/accounts/{accountId}/marketplacecontrolslists"
                #expect((value("rokt_gateway_upstream_requests_total", ["endpoint": controls, "status": "200"]) ?? 0) >= 1)
                #expect((value("rokt_gateway_upstream_request_duration_seconds_count", ["endpoint": controls, "status_class": "2xx"]) ?? 0) >= 1)
                #expect(value("rokt_gateway_upstream_request_duration_seconds_count", ["endpoint": "POST /v1/Placements/any", "status_class": "2xx"]) == 1)
                #expect(
                    value("rokt_gateway_http_requests_total", ["method": "GET", "route": "/v1/operations/{id}", "status_class": "4xx"]) == 1)
                #expect(value("rokt_gateway_operations", ["state": "succeeded"]) == 1)
                #expect(value("rokt_gateway_store_up", [:]) == 1)
                #expect((value("process_resident_memory_bytes", [:]) ?? 0) > 0)
                #expect(families.values.flatMap(\.samples).allSatisfy { !$0.labels.values.contains { $0.contains(SandboxDemo.merchant1) } })
            }
        } catch {
            await receiver.shutdown()
            throw error
        }
        await receiver.shutdown()
    }

    /// Buckets per series ascend to `le="+Inf"`, which equals `_count`; `_sum` is there.
    static func checkHistogram(_ family: PrometheusParser.Family) throws {
        let series = Dictionary(grouping: family.samples) { sample in
            sample.labels.filter { $0.key != "le" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        for (labels, samples) in series {
            let buckets = samples.filter { $0.name == family.name + "_bucket" }
            let infinity = try #require(buckets.first { $0.labels["le"] == "+Inf" }, "\(family.name){\(labels)} has no +Inf bucket")
            #expect(buckets.map(\.value) == buckets.map(\.value).sorted(), "\(family.name){\(labels)} buckets not cumulative")
            #expect(buckets.count == DurationHistogram.bounds.count + 1)
            #expect(samples.first { $0.name == family.name + "_count" }?.value == infinity.value)
            #expect(samples.contains { $0.name == family.name + "_sum" })
        }
    }

    static func waitUntilDelivered(_ gateway: GatewayHarness, endpointId: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let log = try await gateway.call(.get, "/v1/webhook-endpoints/\(endpointId)/deliveries")
            if log["data"]?.array?.contains(where: { $0["state"]?.stringValue == "delivered" }) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure(description: "no delivery was delivered")
    }
}
