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
