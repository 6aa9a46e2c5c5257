import Testing
@testable import Gateway

@Suite struct EdgeConfigurationTests {
    @Test func placementsAndCORSDefaults() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([:])
        #expect(configuration.placementsTimeout == .milliseconds(300))
        #expect(configuration.placementsOnError == .skip)
        #expect(!configuration.cors.isEnabled)
    }

    @Test func readsPlacementsAndCORSVariables() throws {
        let configuration = try GatewayConfiguration.fromEnvironment([
            "PLACEMENTS_TIMEOUT_MS": "750", "PLACEMENTS_ON_ERROR": "ERROR", "CORS_ALLOWED_ORIGINS": "https://a.example,https://b.example",
        ])
        #expect(configuration.placementsTimeout == .milliseconds(750))
        #expect(configuration.placementsOnError == .error)
        #expect(configuration.cors.allowedOrigins == ["https://a.example", "https://b.example"])
    }

    @Test(arguments: [
        ("PLACEMENTS_TIMEOUT_MS", "0"), ("PLACEMENTS_TIMEOUT_MS", "10001"), ("PLACEMENTS_TIMEOUT_MS", "fast"),
        ("PLACEMENTS_ON_ERROR", "ignore"), ("CORS_ALLOWED_ORIGINS", "shop.example.com"),
    ])
    func malformedValueIsAnErrorNamingTheVariable(variable: String, raw: String) {
        #expect {
            try GatewayConfiguration.fromEnvironment([variable: raw])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }
}
