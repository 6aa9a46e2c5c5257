import Testing
@testable import Gateway

@Suite struct GatewayConfigurationTests {
    @Test func defaultsMatchTheContract() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([:])
        #expect(configuration.port == 8080)
        #expect(configuration.server.port == 8080)
    }

    @Test(arguments: ["-1", "65536", "", "80a"])
    func outOfRangeOrMalformedPortIsRefused(raw: String) {
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(["PORT": raw]) }
    }
}

@Suite struct EngineConfigurationFromEnvironmentTests {
    @Test func engineAndRetryVariablesAreRead() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "ENGINE_MAX_CONCURRENT_JOBS": "64", "ENGINE_MIN_CONCURRENT_JOBS": "4", "ENGINE_COALESCING_WINDOW_MS": "20",
            "RETRY_BASE_MS": "250", "RETRY_CAP_MS": "60000", "RETRY_MAX_AGE_HOURS": "6",
        ])
        #expect(configuration.engine.maxConcurrentJobs == 64)
        #expect(configuration.engine.minConcurrentJobs == 4)
        #expect(configuration.engine.coalescingWindow == .milliseconds(20))
        #expect(configuration.engine.retry == RetryPolicy(base: .milliseconds(250), cap: .seconds(60), maxAge: .seconds(6 * 3600)))
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let engine = try GatewayConfiguration.fromEnvironment([:]).engine
        #expect(engine.maxConcurrentJobs == 32 && engine.minConcurrentJobs == 2)
        #expect(engine.retry == RetryPolicy(base: .seconds(1), cap: .seconds(300), maxAge: .seconds(24 * 3600)))
    }

    @Test(arguments: [
        ("ENGINE_MAX_CONCURRENT_JOBS", "0"), ("ENGINE_MAX_CONCURRENT_JOBS", "many"), ("ENGINE_MIN_CONCURRENT_JOBS", "64"),
        ("ENGINE_COALESCING_WINDOW_MS", "-1"), ("RETRY_BASE_MS", "0"), ("RETRY_BASE_MS", "400000"), ("RETRY_MAX_AGE_HOURS", "25"),
    ])
    func badValuesAreRefusedByName(variable: String, raw: String) {
        do {
            _ = try GatewayConfiguration.fromEnvironment([variable: raw])
            Issue.record("\(variable)=\(raw) was accepted")
        } catch {
            #expect(error.variable == variable)
        }
    }
}
