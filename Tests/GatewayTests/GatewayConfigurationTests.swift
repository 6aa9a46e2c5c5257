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

    @Test(arguments: [("WEBHOOK_RETRY_SCHEDULE", "5,10"), ("WEBHOOK_DISABLE_AFTER", "10s"), ("WEBHOOK_SECRET_GRACE", "30d"),
                      ("WEBHOOK_MAX_CONCURRENCY", "0"), ("WEBHOOK_ENDPOINT_CONCURRENCY", "65"), ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "yes")])
    func malformedWebhookVariablesAreRefusedByName(name: String, raw: String) {
        #expect { try GatewayConfiguration.fromEnvironment([name: raw]) } throws: { ($0 as? ConfigurationError)?.variable == name }
    }
}
