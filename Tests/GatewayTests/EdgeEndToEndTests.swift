import Foundation
import HTTP
import RoktSandbox
import Testing
@testable import Gateway

/// CORS on the live pipeline, the probes, the metrics and the served spec.
@Suite struct EdgeEndToEndTests {
    static let shop = "https://shop.example.com"
    static let controls = "/v1/merchants/\(SandboxDemo.merchant1)/controls"
    static func allowShop(_ configuration: inout GatewayConfiguration) {
        configuration.cors = CORSPolicy(allowedOrigins: [shop])
    }

    @Test func preflightOnEveryRegisteredPathFromAnAllowedOrigin() async throws {
        try await withGateway(configure: Self.allowShop) { gateway in
            for (path, method) in [(Self.controls, "PUT"), ("/v1/placements/any", "POST"), ("/v1/operations/op_x", "GET"), ("/healthz", "GET")] {
                let response = try await gateway.call(
                    .options, path, anonymous: true,
                    headers: [
                        "Origin": Self.shop, "Access-Control-Request-Method": method,
                        "Access-Control-Request-Headers": "authorization, idempotency-key",
                    ])
                #expect(response.status == 204, "\(path)")
                #expect(response.headers["Access-Control-Allow-Origin"] == Self.shop)
                #expect(response.headers["Access-Control-Allow-Methods"]?.contains(method) == true, "\(path)")
                #expect(response.headers["Access-Control-Allow-Headers"]?.contains("Idempotency-Key") == true)
                #expect(response.headers["Vary"] == "Origin")
                #expect(response.headers["X-Request-Id"] != nil)
            }
        }
    }

    @Test func preflightFromAnotherOriginIsRefused() async throws {
        try await withGateway(configure: Self.allowShop) { gateway in
            let response = try await gateway.call(
                .options, Self.controls, anonymous: true,
                headers: ["Origin": "https://evil.example.com", "Access-Control-Request-Method": "PUT"])
            #expect(response.status == 403)
            #expect(response["code"] == .string("cors_origin_not_allowed"))
            #expect(response.headers["Access-Control-Allow-Origin"] == nil)
        }
    }

    @Test func actualResponsesAndErrorsCarryTheCORSHeaders() async throws {
        try await withGateway(configure: Self.allowShop) { gateway in
            let ok = try await gateway.call(.get, Self.controls, headers: ["Origin": Self.shop])
            #expect(ok.status == 200)
            #expect(ok.headers["Access-Control-Allow-Origin"] == Self.shop)
            #expect(ok.headers["Access-Control-Expose-Headers"]?.contains("X-Request-Id") == true)
            let unauthenticated = try await gateway.call(.get, Self.controls, anonymous: true, headers: ["Origin": Self.shop])
            #expect(unauthenticated.status == 401)
            #expect(unauthenticated.headers["Access-Control-Allow-Origin"] == Self.shop)
            let missing = try await gateway.call(.get, "/v1/nothing-here", headers: ["Origin": Self.shop])
            #expect(missing.status == 404)
            #expect(missing.headers["Access-Control-Allow-Origin"] == Self.shop)
            #expect(missing.headers["Vary"] == "Origin")
            let foreign = try await gateway.call(.get, Self.controls, headers: ["Origin": "https://evil.example.com"])
            #expect(foreign.status == 200)  // served: CORS is the browser's guard, the key is ours
            #expect(foreign.headers["Access-Control-Allow-Origin"] == nil)
            #expect(foreign.headers["Vary"] == "Origin")
        }
    }

    @Test func withoutConfiguredOriginsThereIsNoCORS() async throws {
        try await withGateway { gateway in
            let preflight = try await gateway.call(
                .options, Self.controls, anonymous: true,
                headers: ["Origin": Self.shop, "Access-Control-Request-Method": "PUT"])
            #expect(preflight.status == 405)
            #expect(preflight.headers["Access-Control-Allow-Origin"] == nil)
            let ok = try await gateway.call(.get, "/healthz", anonymous: true, headers: ["Origin": Self.shop])
            #expect(ok.headers["Access-Control-Allow-Origin"] == nil && ok.headers["Vary"] == nil)
        }
    }

    @Test func readyWhileRunningAndNotReadyOnceTheEngineStops() async throws {
        try await withGateway { gateway in
            let ready = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(ready.status == 200)
            #expect(ready["status"] == .string("ready"))
            await gateway.services.engine.shutdown()
            let stopped = try await gateway.call(.get, "/readyz", anonymous: true)
            #expect(stopped.status == 503)
            #expect(stopped["code"] == .string("not_ready"))
            #expect(stopped["errors"]?.array?.first?["field"] == .string("engine"))
        }
    }

    @Test func metricsCountRequestsByTemplateOperationsAndUpstreamCalls() async throws {
        try await withGateway { gateway in
            #expect(try await gateway.call(.post, "\(Self.controls)/blocked-domains", json: #"{"domain":"metrics.example"}"#).status == 200)
            _ = try await gateway.call(.get, "/v1/nothing-here")
            let metrics = try await gateway.call(.get, "/metrics", anonymous: true)
            #expect(metrics.status == 200)
            #expect(metrics.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = metrics.text
            #expect(text.contains(#"rokt_gateway_http_requests_total{method="POST",route="/v1/merchants/{accountId}/controls/blocked-domains",status_class="2xx"} 1"#))
            #expect(text.contains(#"rokt_gateway_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 1"#))
            #expect(text.contains(#"rokt_gateway_http_request_duration_seconds_count{method="POST",route="/v1/merchants/{accountId}/controls/blocked-domains"} 1"#))
            #expect(text.contains(#"le="+Inf"} 1"#))
            #expect(text.contains(#"rokt_gateway_operations{state="succeeded"} 1"#))
            // The job may still be wrapping up after its operation finished: only its presence is certain.
            #expect(text.split(separator: "\n").contains { $0.hasPrefix("rokt_gateway_jobs_queued ") && Int($0.split(separator: " ")[1]) != nil })
            #expect(text.contains(#"rokt_gateway_upstream_requests_total{endpoint="PUT /v1/partnership/accounts/{accountId}/marketplacecontrolslists",status="200"} 1"#))
            #expect(text.contains("rokt_gateway_store_up 1"))
            #expect(text.contains("rokt_gateway_webhook_deliveries_pending 0\n") && text.contains("rokt_gateway_webhook_endpoints_disabled 0\n"))
            #expect(!text.contains(SandboxDemo.token) && !text.contains(gateway.adminKey))
        }
    }

    @Test func servesTheOpenAPIFileByteForByte() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.get, "/openapi.yaml", anonymous: true)
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == "application/yaml")
            #expect(response.body == Array(try Self.specFile()))
        }
    }

    /// Fails when openapi/gateway.yaml was edited without running openapi/embed.sh.
    @Test func embeddedSpecMatchesTheFile() throws {
        #expect(Array(OpenAPIDocument.yaml.utf8) == Array(try Self.specFile()), "run openapi/embed.sh")
    }

    /// The spec's `Problem.code` enum is exactly `ProblemCode`. Problems can only be built from a
    /// `ProblemCode` (the string initialiser is private), so the sources cannot use a code the enum lacks.
    @Test func specListsExactlyTheProblemCodes() throws {
        let spec = String(decoding: try Self.specFile(), as: UTF8.self)
        let problemCode = try #require(spec.range(of: "Absent only on the HTTP layer's routing answers"), "Problem.code not found in the spec")
        let listed = spec[problemCode.upperBound...].split(separator: "\n").dropFirst(2)
            .prefix { $0.hasPrefix("            - ") }.map { String($0.dropFirst(14)) }
        #expect(listed.count > 20)
        #expect(Set(listed) == Set(ProblemCode.allCases.map(\.rawValue)), "openapi/gateway.yaml's Problem.code and ProblemCode differ")
        #expect(listed.count == Set(listed).count)
    }

    @Test func aMerchantRoktDoesNotManageIs404NotABadGateway() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.get, "/v1/merchants/no-such-merchant/controls")
            #expect(response.status == 404)
            #expect(response["code"] == .string("merchant_not_managed"))
            #expect(response["upstream"]?["status"]?.int == 403)
        }
    }

    static func specFile() throws -> Data {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Data(contentsOf: root.appendingPathComponent("openapi/gateway.yaml"))
    }
}
