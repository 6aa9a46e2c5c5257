import Foundation
import HTTP
import Testing
@testable import Gateway

/// METRICS_PORT: `/metrics` on its own listener, off the public port.
@Suite struct MetricsPortTests {
    @Test func isOptionalAndMustBeAnotherPort() throws {
        #expect(try GatewayConfiguration.fromEnvironment([:]).metricsPort == nil)
        #expect(try GatewayConfiguration.fromEnvironment(["METRICS_PORT": " "]).metricsPort == nil)
        #expect(try GatewayConfiguration.fromEnvironment(["METRICS_PORT": "9464"]).metricsPort == 9464)
        #expect(try GatewayConfiguration.fromEnvironment(["PORT": "0", "METRICS_PORT": "0"]).metricsPort == 0)
        for (environment, message) in [
            (["METRICS_PORT": "8080"], "must differ from PORT (8080)"),
            (["PORT": "9000", "METRICS_PORT": "9000"], "must differ from PORT (9000)"),
            (["METRICS_PORT": "65536"], "must be a port number between 0 and 65535, got \"65536\""),
            (["METRICS_PORT": "metrics"], "must be a port number between 0 and 65535, got \"metrics\""),
        ] {
            #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(environment) }
            do { _ = try GatewayConfiguration.fromEnvironment(environment) } catch {
                #expect(error.variable == "METRICS_PORT" && error.message == message)
            }
        }
    }

    /// The real executable: the port is logged, the public port answers 404 for `/metrics`,
    /// and SIGTERM closes the metrics listener along with the server.
    @Test func theExecutableServesMetricsOnItsOwnPortAndClosesItOnSigterm() async throws {
        let bed = try ProcessTestBed("metrics-port", extra: ["METRICS_PORT": "0"])
        let gateway = try GatewayProcess(environment: bed.environment)
        let port = try await gateway.waitForField("listening", "port")
        let metricsPort = try await gateway.waitForField("listening", "metricsPort")
        #expect(Int(metricsPort) != nil && metricsPort != port)
        let publicScrape = try await bed.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"))
        #expect(publicScrape.status.code == 404)
        let scrape = try await bed.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"))
        #expect(scrape.status.code == 200)
        let text = String(decoding: scrape.body, as: UTF8.self)
        #expect(text.contains(#"rokt_gateway_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 1"#))
        #expect(text.contains("\nprocess_start_time_seconds "))
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        await #expect(throws: HTTPClientError.self) {
            _ = try await bed.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"), timeout: .seconds(5))
        }
    }
}
