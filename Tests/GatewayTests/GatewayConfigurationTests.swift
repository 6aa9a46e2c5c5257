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

    @Test func webhookVariablesAreReadAndDefaultAsDocumented() throws {
        let defaults = try GatewayConfiguration.fromEnvironment([:]).webhooks
        #expect(defaults.schedule == .default && defaults.disableAfter == .seconds(5 * 86_400) && defaults.timeout == .seconds(10))
        let configuration = try GatewayConfiguration.fromEnvironment([
            "WEBHOOK_RETRY_SCHEDULE": "0ms,10ms", "WEBHOOK_DISABLE_AFTER": "2d", "WEBHOOK_SECRET_GRACE": "1h",
            "WEBHOOK_MAX_CONCURRENCY": "8", "WEBHOOK_ENDPOINT_CONCURRENCY": "2", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        ])
        #expect(configuration.webhooks.schedule.delays == [.zero, .milliseconds(10)])
        #expect(configuration.webhooks.disableAfter == .seconds(2 * 86_400))
        #expect(configuration.webhooks.secretGracePeriod == .seconds(3600))
        #expect(configuration.webhooks.maxConcurrentDeliveries == 8 && configuration.webhooks.maxConcurrentPerEndpoint == 2)
        #expect(configuration.allowPrivateWebhooks)
    }

    @Test(arguments: [
        ("WEBHOOK_RETRY_SCHEDULE", "5,10"), ("WEBHOOK_DISABLE_AFTER", "10s"), ("WEBHOOK_SECRET_GRACE", "30d"),
        ("WEBHOOK_MAX_CONCURRENCY", "0"), ("WEBHOOK_ENDPOINT_CONCURRENCY", "65"), ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "yes"),
    ])
    func malformedWebhookVariablesAreRefusedByName(name: String, raw: String) {
        #expect { try GatewayConfiguration.fromEnvironment([name: raw]) } throws: { ($0 as? ConfigurationError)?.variable == name }
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
        #expect(engine.maxConcurrentJobs == 32 && engine.minConcurrentJobs == 1)
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
