import Testing

@testable import Postgres

/// Which authentication requests a connection answers, by default and under `require_auth`.
@Suite struct AuthenticationPolicyTests {
    @Test func byDefaultSCRAMAndTrustAlwaysAndWeakMethodsOnlyOverTLS() throws {
        let policy = AuthenticationPolicy.default
        try policy.check(.scramSHA256, overTLS: false)
        try policy.check(.none, overTLS: false)
        #expect(throws: AuthenticationRefusal.needsTLS(.password)) { try policy.check(.password, overTLS: false) }
        #expect(throws: AuthenticationRefusal.needsTLS(.md5)) { try policy.check(.md5, overTLS: false) }
        try policy.check(.password, overTLS: true)
        try policy.check(.md5, overTLS: true)
    }

    @Test func namingAWeakMethodAllowsItWithoutTLSAndOnlyIt() throws {
        let policy = try AuthenticationPolicy(requireAuth: "md5")
        try policy.check(.md5, overTLS: false)
        #expect(throws: AuthenticationRefusal.notAllowed(.scramSHA256)) { try policy.check(.scramSHA256, overTLS: true) }
        #expect(throws: AuthenticationRefusal.notAllowed(.none)) { try policy.check(.none, overTLS: true) }
        #expect(throws: AuthenticationRefusal.notAllowed(.password)) { try policy.check(.password, overTLS: true) }
    }

    @Test func onlySCRAMRefusesATrustingServer() throws {
        let policy = try AuthenticationPolicy(requireAuth: "scram-sha-256")
        try policy.check(.scramSHA256, overTLS: false)
        #expect(throws: AuthenticationRefusal.notAllowed(.none)) { try policy.check(.none, overTLS: false) }
    }

    @Test func negatedMethodsAreRefusedAndTheRestKeepTheTLSRule() throws {
        let policy = try AuthenticationPolicy(requireAuth: "!password,!gss")
        #expect(throws: AuthenticationRefusal.notAllowed(.password)) { try policy.check(.password, overTLS: true) }
        #expect(throws: AuthenticationRefusal.needsTLS(.md5)) { try policy.check(.md5, overTLS: false) }
        try policy.check(.scramSHA256, overTLS: false)
    }

    @Test func malformedRequireAuthIsAnError() {
        for value in ["md5,!password", "kerberos", "gss", "", "scram-sha-256,"] {
            #expect(throws: ConnectionStringError.self, "\(value)") { try AuthenticationPolicy(requireAuth: value) }
        }
    }

    @Test func saslPicksSCRAMWithoutChannelBinding() throws {
        #expect(try AuthenticationPolicy.default.saslMechanism(offered: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]) == "SCRAM-SHA-256")
        #expect(throws: AuthenticationRefusal.noSupportedSASLMechanism(offered: ["SCRAM-SHA-256-PLUS"])) {
            try AuthenticationPolicy.default.saslMechanism(offered: ["SCRAM-SHA-256-PLUS"])
        }
        #expect(throws: AuthenticationRefusal.notAllowed(.scramSHA256)) {
            try AuthenticationPolicy(requireAuth: "password").saslMechanism(offered: ["SCRAM-SHA-256"])
        }
    }
}
