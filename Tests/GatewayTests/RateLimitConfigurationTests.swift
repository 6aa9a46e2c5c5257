import Testing
@testable import Gateway

@Suite struct RateLimitConfigurationTests {
    @Test func defaultsAreWritesTenASecondBurstFiftyAndReadsAndPlacementsFiftyBurstAHundred() throws {
        let limits = try GatewayConfiguration.fromEnvironment([:]).rateLimits
        #expect(limits.enabled && limits.maxPartitions == 100_000)
        #expect(limits.write == RateLimitPolicy(.write, perSecond: 10, burst: 50))
        #expect(limits.read == RateLimitPolicy(.read, perSecond: 50, burst: 100))
        #expect(limits.placements == RateLimitPolicy(.placements, perSecond: 50, burst: 100))
    }

    @Test func variablesSetRatesBurstsAndTurnClassesOff() throws {
        let limits = try GatewayConfiguration.fromEnvironment([
            "RATE_LIMIT_WRITE_PER_SECOND": "2.5", "RATE_LIMIT_WRITE_BURST": "7", "RATE_LIMIT_READ_PER_SECOND": "OFF",
            "RATE_LIMIT_PLACEMENTS_PER_SECOND": "0", "RATE_LIMIT_MAX_PARTITIONS": "5000", "RATE_LIMIT_ENABLED": "false",
        ]).rateLimits
        #expect(limits.write == RateLimitPolicy(.write, perSecond: 2.5, burst: 7))
        #expect(limits.read == nil && limits.placements == nil)
        #expect(limits.maxPartitions == 5000 && !limits.enabled)
    }

    @Test func aBurstAloneKeepsTheDefaultRate() throws {
        let limits = try GatewayConfiguration.fromEnvironment(["RATE_LIMIT_READ_BURST": "400"]).rateLimits
        #expect(limits.read == RateLimitPolicy(.read, perSecond: 50, burst: 400))
    }

    @Test(arguments: [
        ("RATE_LIMIT_ENABLED", "yes"), ("RATE_LIMIT_MAX_PARTITIONS", "10"), ("RATE_LIMIT_MAX_PARTITIONS", "lots"),
        ("RATE_LIMIT_WRITE_PER_SECOND", "-1"), ("RATE_LIMIT_READ_PER_SECOND", "fast"), ("RATE_LIMIT_READ_PER_SECOND", "nan"),
        ("RATE_LIMIT_PLACEMENTS_PER_SECOND", "0.001"), ("RATE_LIMIT_WRITE_PER_SECOND", "2000000"),
        ("RATE_LIMIT_PLACEMENTS_BURST", "0"), ("RATE_LIMIT_READ_BURST", "1.5"), ("RATE_LIMIT_WRITE_BURST", "1000001"),
    ])
    func malformedValuesAreRefusedByName(name: String, raw: String) {
        #expect { try GatewayConfiguration.fromEnvironment([name: raw]) } throws: { ($0 as? ConfigurationError)?.variable == name }
    }
}
