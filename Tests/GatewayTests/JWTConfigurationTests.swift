import Foundation
import JWT
import Testing
@testable import Gateway

/// The AUTH_* variables (README "JWT bearer tokens").
@Suite struct JWTConfigurationTests {
    static let base = ["AUTH_ISSUER": "https://issuer.example", "AUTH_AUDIENCE": "rokt-gateway", "AUTH_JWKS_URL": "https://issuer.example/jwks"]
    static let secret = "a-shared-secret-of-at-least-32-bytes!"

    private func refusal(_ environment: [String: String], naming variable: String, hiding hidden: String? = nil) -> ConfigurationError? {
        SecretVariableTests.refusal(environment, naming: variable, hiding: hidden)
    }

    @Test func offUnlessAnAuthVariableIsSet() throws {
        #expect(try GatewayConfiguration.fromEnvironment([:]).auth == nil)
        #expect(try GatewayConfiguration.fromEnvironment(["AUTH_ISSUER": " "]).auth == nil)
    }

    @Test func defaults() throws {
        let auth = try #require(try GatewayConfiguration.fromEnvironment(Self.base).auth)
        #expect(auth.policy == TokenPolicy(issuer: "https://issuer.example", audience: "rokt-gateway", algorithms: Set(JWSAlgorithm.allCases), leeway: .seconds(60)))
        guard case .url("https://issuer.example/jwks", nil) = auth.keySource else { Issue.record("\(auth.keySource)"); return }
        #expect(auth.scopesClaim == nil)
        #expect(auth.merchantsClaim == "merchant_ids")
        #expect(auth.allMerchantsValue == nil)
        #expect(auth.scopeMap["write"] == .write)
        #expect(auth.scopeMap["rokt-gateway:admin"] == .admin)
        #expect(auth.scopeMap.count == 8)
    }

    @Test func everyVariableIsRead() throws {
        var environment = Self.base
        environment["AUTH_ALGORITHMS"] = "RS256, ES256"
        environment["AUTH_LEEWAY_SECONDS"] = "0"
        environment["AUTH_SCOPES_CLAIM"] = "permissions"
        environment["AUTH_SCOPE_MAP"] = "rokt:read=read, rokt:write=write"
        environment["AUTH_MERCHANTS_CLAIM"] = "https://partner.example/merchants"
        environment["AUTH_ALL_MERCHANTS_VALUE"] = "*"
        let auth = try #require(try GatewayConfiguration.fromEnvironment(environment).auth)
        #expect(auth.policy.algorithms == [.rs256, .es256])
        #expect(auth.policy.leeway == .zero)
        #expect(auth.scopesClaim == "permissions")
        #expect(auth.scopeMap == ["rokt:read": .read, "rokt:write": .write])
        #expect(auth.merchantsClaim == "https://partner.example/merchants")
        #expect(auth.allMerchantsValue == "*")
    }

    @Test func issuerAudienceAndOneKeySourceAreRequired() throws {
        _ = refusal(["AUTH_JWKS_URL": "https://issuer.example/jwks"], naming: "AUTH_ISSUER")
        _ = refusal(["AUTH_ISSUER": "https://issuer.example"], naming: "AUTH_AUDIENCE")
        _ = refusal(["AUTH_ISSUER": "https://issuer.example", "AUTH_AUDIENCE": "a"], naming: "AUTH_JWKS_URL")
        var both = Self.base
        both["AUTH_HS256_SECRET"] = Self.secret
        let error = refusal(both, naming: "AUTH_JWKS_URL", hiding: Self.secret)
        #expect(error?.message.contains("AUTH_HS256_SECRET") == true)
    }

    @Test func theJWKSURLMustBeHTTPS() {
        for url in ["http://issuer.example/jwks", "http://127.0.0.1:9/jwks", "issuer.example/jwks"] {
            var environment = Self.base
            environment["AUTH_JWKS_URL"] = url
            _ = refusal(environment, naming: "AUTH_JWKS_URL")
        }
        var environment = Self.base
        environment["AUTH_JWKS_CA_FILE"] = "/nonexistent/ca.pem"
        _ = refusal(environment, naming: "AUTH_JWKS_CA_FILE")
    }

    @Test func sharedSecretFromTheVariableOrItsFileAndNeverPrinted() throws {
        let scratch = try SecretVariableTests.Scratch()
        let environment = ["AUTH_ISSUER": "https://issuer.example", "AUTH_AUDIENCE": "rokt-gateway"]
        for extra in [["AUTH_HS256_SECRET": Self.secret], ["AUTH_HS256_SECRET_FILE": scratch.file(Self.secret + "\n")]] {
            let auth = try #require(try GatewayConfiguration.fromEnvironment(environment.merging(extra) { $1 }).auth)
            guard case .sharedSecret(let bytes) = auth.keySource else { Issue.record("\(auth.keySource)"); continue }
            #expect(bytes == Array(Self.secret.utf8))
        }
        _ = refusal(environment.merging(["AUTH_HS256_SECRET": "too-short-secret"]) { $1 }, naming: "AUTH_HS256_SECRET", hiding: "too-short-secret")
        _ = refusal(environment.merging(["AUTH_HS256_SECRET_FILE": scratch.file("short\n", "short")]) { $1 }, naming: "AUTH_HS256_SECRET_FILE", hiding: "short\"")
        _ = refusal(environment.merging(["AUTH_HS256_SECRET": Self.secret, "AUTH_ALGORITHMS": "RS256"]) { $1 }, naming: "AUTH_ALGORITHMS", hiding: Self.secret)
    }

    @Test func jwksFileMustHoldAUsableKeySet() throws {
        let scratch = try SecretVariableTests.Scratch()
        let environment = ["AUTH_ISSUER": "https://issuer.example", "AUTH_AUDIENCE": "rokt-gateway"]
        let good = scratch.file(#"{"keys":[{"kty":"oct","kid":"k1","k":"\#(String(repeating: "c2VjcmV0", count: 8))"}]}"#, "good.json")
        let auth = try #require(try GatewayConfiguration.fromEnvironment(environment.merging(["AUTH_JWKS_FILE": good]) { $1 }).auth)
        guard case .file(good) = auth.keySource else { Issue.record("\(auth.keySource)"); return }
        for (name, content) in [("empty.json", #"{"keys":[]}"#), ("bad.json", "not json")] {
            _ = refusal(environment.merging(["AUTH_JWKS_FILE": scratch.file(content, name)]) { $1 }, naming: "AUTH_JWKS_FILE")
        }
        _ = refusal(environment.merging(["AUTH_JWKS_FILE": scratch.directory + "/missing.json"]) { $1 }, naming: "AUTH_JWKS_FILE")
    }

    @Test func malformedValuesAreRefusedByName() {
        for (variable, value) in [
            ("AUTH_ALGORITHMS", "RS256,none"), ("AUTH_ALGORITHMS", " , "), ("AUTH_LEEWAY_SECONDS", "601"), ("AUTH_LEEWAY_SECONDS", "-1"),
            ("AUTH_SCOPE_MAP", "rokt:read=reader"), ("AUTH_SCOPE_MAP", "read"), ("AUTH_SCOPE_MAP", "=read"),
        ] {
            var environment = Self.base
            environment[variable] = value
            _ = refusal(environment, naming: variable)
        }
    }
}
