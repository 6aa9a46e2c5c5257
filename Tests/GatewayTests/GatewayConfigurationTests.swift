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
    @Test func theEngineLeaseIsReadInSecondsWithinBounds() throws {
        #expect(try GatewayConfiguration.fromEnvironment([:]).engine.lease == .seconds(60))
        #expect(try GatewayConfiguration.fromEnvironment(["ENGINE_LEASE_SECONDS": "15"]).engine.lease == .seconds(15))
        for raw in ["4", "3601", "1.5"] {
            #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(["ENGINE_LEASE_SECONDS": raw]) }
        }
    }

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

@Suite struct ServerLimitsFromEnvironmentTests {
    @Test func defaultsAreTheDocumentedOnes() throws {
        let server = try GatewayConfiguration.fromEnvironment([:]).server
        #expect(server.idleTimeout == .seconds(75))
        #expect(server.parserLimits.maxHeaderBytes == 16_384 && server.maxBodyBytes == 1 << 20 && server.maxBodyMemoryBytes == 64 << 20)
        #expect(server.headerReadTimeout == .seconds(10) && server.bodyReadTimeout == .seconds(30) && server.writeTimeout == .seconds(30))
        #expect(server.maxConnections == 10_000)
    }

    @Test func eventLoopsAreChosenOnlyWhenSet() throws {
        #expect(try GatewayConfiguration.fromEnvironment([:]).eventLoops == nil)
        #expect(try GatewayConfiguration.fromEnvironment(["HTTP_EVENT_LOOPS": "3"]).eventLoops == 3)
    }

    @Test func serverVariablesAreRead() throws {
        let server = try GatewayConfiguration.fromEnvironment([
            "HTTP_IDLE_TIMEOUT_SECONDS": "120", "HTTP_MAX_HEADER_BYTES": "32768", "HTTP_MAX_BODY_BYTES": "2097152",
            "HTTP_MAX_BODY_MEMORY_MB": "128", "HTTP_HEADER_TIMEOUT_SECONDS": "5", "HTTP_BODY_TIMEOUT_SECONDS": "60",
            "HTTP_WRITE_TIMEOUT_SECONDS": "15", "HTTP_MAX_CONNECTIONS": "500",
        ]).server
        #expect(server.idleTimeout == .seconds(120))
        #expect(server.parserLimits.maxHeaderBytes == 32_768 && server.maxBodyBytes == 2 << 20 && server.maxBodyMemoryBytes == 128 << 20)
        #expect(server.headerReadTimeout == .seconds(5) && server.bodyReadTimeout == .seconds(60) && server.writeTimeout == .seconds(15))
        #expect(server.maxConnections == 500)
    }

    @Test(arguments: [
        ("HTTP_IDLE_TIMEOUT_SECONDS", "0"), ("HTTP_IDLE_TIMEOUT_SECONDS", "75s"), ("HTTP_MAX_HEADER_BYTES", "512"),
        ("HTTP_MAX_BODY_BYTES", "100"), ("HTTP_HEADER_TIMEOUT_SECONDS", "301"), ("HTTP_BODY_TIMEOUT_SECONDS", "0"),
        ("HTTP_WRITE_TIMEOUT_SECONDS", "-5"), ("HTTP_MAX_CONNECTIONS", "0"), ("HTTP_MAX_BODY_MEMORY_MB", "0"),
        ("HTTP_EVENT_LOOPS", "0"), ("HTTP_EVENT_LOOPS", "1025"), ("HTTP_EVENT_LOOPS", "two"),
    ])
    func badValuesAreRefusedByName(variable: String, raw: String) {
        #expect { try GatewayConfiguration.fromEnvironment([variable: raw]) } throws: { ($0 as? ConfigurationError)?.variable == variable }
    }

    @Test func shutdownDrainAndGraceAreReadInSecondsWithFractions() throws {
        let defaults = try GatewayConfiguration.fromEnvironment([:])
        #expect(defaults.shutdownDrain == .seconds(5) && defaults.server.shutdownGracePeriod == .seconds(10))
        let configuration = try GatewayConfiguration.fromEnvironment(["SHUTDOWN_DRAIN_SECONDS": "0.3", "SHUTDOWN_GRACE_SECONDS": "30"])
        #expect(configuration.shutdownDrain == .milliseconds(300) && configuration.server.shutdownGracePeriod == .seconds(30))
        for (variable, raw) in [("SHUTDOWN_DRAIN_SECONDS", "-1"), ("SHUTDOWN_DRAIN_SECONDS", "5s"), ("SHUTDOWN_GRACE_SECONDS", "0"), ("SHUTDOWN_GRACE_SECONDS", "601")] {
            #expect { try GatewayConfiguration.fromEnvironment([variable: raw]) } throws: { ($0 as? ConfigurationError)?.variable == variable }
        }
    }

    @Test func writesWaitLessThanTheShutdownGrace() throws {
        #expect(try GatewayConfiguration.fromEnvironment([:]).longestWait == .seconds(9))
        #expect(try GatewayConfiguration.fromEnvironment(["SHUTDOWN_GRACE_SECONDS": "600"]).longestWait == .seconds(599))
        #expect(try GatewayConfiguration.fromEnvironment(["SHUTDOWN_GRACE_SECONDS": "1"]).longestWait == .zero)
    }

    @Test func aBodyLimitAboveTheBodyMemoryIsRefused() {
        #expect { try GatewayConfiguration.fromEnvironment(["HTTP_MAX_BODY_BYTES": "3145728", "HTTP_MAX_BODY_MEMORY_MB": "2"]) } throws: {
            ($0 as? ConfigurationError)?.variable == "HTTP_MAX_BODY_BYTES"
        }
    }
}
