import Rokt
import Testing
@testable import Gateway

/// ROKT_MAX_*, ROKT_CIRCUIT_* and ROKT_RETRY_BUDGET_*: the documented defaults, the values read,
/// and every malformed one refused by name.
@Suite struct UpstreamConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([:])
        let limits = configuration.upstream.limits
        #expect(limits.requestsPerSecond == 50 && limits.burst == 50 && limits.maxConcurrent == 16 && limits.maxWait == .seconds(5))
        let breaker = configuration.upstream.breaker
        #expect(breaker.failureThreshold == 5 && breaker.openDuration == .seconds(10) && breaker.halfOpenProbes == 3)
        #expect(configuration.upstream.maxPause == .seconds(60))
        #expect(configuration.engine.retryBudget == RetryBudgetSettings(percent: 20, minimumPerWindow: 10, window: .seconds(10)))
    }

    @Test func everyVariableIsRead() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "ROKT_MAX_REQUESTS_PER_SECOND": "200", "ROKT_MAX_CONCURRENT_REQUESTS": "64", "ROKT_MAX_QUEUE_WAIT_MS": "250",
            "ROKT_CIRCUIT_FAILURE_THRESHOLD": "8", "ROKT_CIRCUIT_OPEN_SECONDS": "2.5", "ROKT_CIRCUIT_HALF_OPEN_PROBES": "1",
            "ROKT_MAX_RETRY_AFTER_SECONDS": "300", "ROKT_RETRY_BUDGET_PERCENT": "50", "ROKT_RETRY_BUDGET_MIN_RETRIES": "3",
            "ROKT_RETRY_BUDGET_WINDOW_SECONDS": "30",
        ])
        let upstream = configuration.upstream
        // The burst follows the rate unless set.
        #expect(upstream.limits == UpstreamLimits(requestsPerSecond: 200, burst: 200, maxConcurrent: 64, maxWait: .milliseconds(250)))
        #expect(upstream.breaker == CircuitBreakerSettings(failureThreshold: 8, openDuration: .milliseconds(2500), halfOpenProbes: 1))
        #expect(upstream.maxPause == .seconds(300))
        #expect(configuration.engine.retryBudget == RetryBudgetSettings(percent: 50, minimumPerWindow: 3, window: .seconds(30)))
        #expect(try GatewayConfiguration.fromEnvironment(["ROKT_MAX_BURST": "7"]).upstream.limits.burst == 7)
    }

    @Test func zeroTurnsEachBoundOff() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "ROKT_MAX_REQUESTS_PER_SECOND": "0", "ROKT_MAX_CONCURRENT_REQUESTS": "0", "ROKT_CIRCUIT_FAILURE_THRESHOLD": "0",
            "ROKT_MAX_RETRY_AFTER_SECONDS": "0", "ROKT_RETRY_BUDGET_PERCENT": "0",
        ])
        #expect(configuration.upstream.limits.requestsPerSecond == 0 && configuration.upstream.limits.maxConcurrent == 0)
        #expect(configuration.upstream.breaker.failureThreshold == 0 && configuration.upstream.maxPause == .zero)
        #expect(configuration.engine.retryBudget.percent == 0)
    }

    @Test(arguments: [
        ("ROKT_MAX_REQUESTS_PER_SECOND", "-1"), ("ROKT_MAX_REQUESTS_PER_SECOND", "fast"), ("ROKT_MAX_BURST", "0"),
        ("ROKT_MAX_CONCURRENT_REQUESTS", "10001"), ("ROKT_MAX_QUEUE_WAIT_MS", "5s"), ("ROKT_CIRCUIT_FAILURE_THRESHOLD", "-3"),
        ("ROKT_CIRCUIT_OPEN_SECONDS", "0"), ("ROKT_CIRCUIT_HALF_OPEN_PROBES", "0"), ("ROKT_MAX_RETRY_AFTER_SECONDS", "3601"),
        ("ROKT_RETRY_BUDGET_PERCENT", "20%"), ("ROKT_RETRY_BUDGET_MIN_RETRIES", "-1"), ("ROKT_RETRY_BUDGET_WINDOW_SECONDS", "0"),
    ])
    func malformedValuesAreRefusedByName(name: String, raw: String) {
        #expect { try GatewayConfiguration.fromEnvironment([name: raw]) } throws: { ($0 as? ConfigurationError)?.variable == name }
    }

    @Test func aBurstWithoutARateIsRefused() {
        #expect { try GatewayConfiguration.fromEnvironment(["ROKT_MAX_REQUESTS_PER_SECOND": "0", "ROKT_MAX_BURST": "10"]) } throws: {
            ($0 as? ConfigurationError)?.message.contains("ROKT_MAX_REQUESTS_PER_SECOND") == true
        }
    }
}
