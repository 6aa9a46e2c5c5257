import JSON
import JWT
import JWTTestSupport
import Testing

@Suite struct JSONWebKeySetTests {
    @Test func loadsEachKeyTypeFromPyJWTsJWKs() async throws {
        let minted = try await Fixtures.minted()
        let set = try JSONWebKeySet(parsing: minted.keySet(["rsa-1", "ec-1", "ed-1"]))
        #expect(set.keys.map(\.id) == ["rsa-1", "ec-1", "ed-1"])
        #expect(set.keys.map(\.kind) == [.rsa, .ecP256, .ed25519])
        #expect(set.keys[0].algorithms == [.rs256, .ps256])
        #expect(set.keys[2].algorithms == [.edDSA, .ed25519])
        #expect(set.skipped.isEmpty)
    }

    /// What cannot serve is skipped, and the rest of the set still loads.
    @Test func skipsWhatCannotServeAndKeepsTheRest() async throws {
        let minted = try await Fixtures.minted()
        func with(_ kid: String, _ changes: [String: JSONValue?]) -> JSONValue {
            var jwk = minted.publicKeys[kid]!.objectValue!
            for (name, value) in changes { jwk[name] = value }
            return .object(jwk)
        }
        let entries: [JSONValue] = [
            minted.publicKeys["rsa-1024"]!,
            minted.publicKeys["ec-384"]!,
            with("rsa-2", ["kid": .string("encryption"), "use": .string("enc")]),
            with("rsa-2", ["kid": .string("wrap"), "use": nil, "key_ops": .array([.string("wrapKey")])]),
            with("rsa-2", ["kid": .string("rs512"), "alg": .string("RS512")]),
            with("rsa-2", ["kid": .string("mismatch"), "alg": .string("ES256")]),
            with("ec-1", ["kid": .string("short-x"), "x": .string("AAAA")]),
            with("ec-1", ["kid": .string("off-curve"), "x": .string(String(repeating: "A", count: 43))]),
            .object(["kid": .string("secret"), "kty": .string("oct"), "k": .string(String(repeating: "c2VjcmV0", count: 8))]),
            .object(["kid": .string("future"), "kty": .string("AKP"), "pub": .string("AAAA")]),
            .string("not a key"),
            minted.publicKeys["ec-1"]!,
        ]
        let set = try JSONWebKeySet(parsing: JSONValue.object(["keys": .array(entries)]).serializedBytes)
        #expect(set.keys.map(\.id) == ["ec-1"])
        #expect(set.skipped.map(\.key) == ["rsa-1024", "ec-384", "encryption", "wrap", "rs512", "mismatch", "short-x", "off-curve", "secret", "future", "#10"])
        #expect(set.skipped[0].reason.contains("1024 bits"))
        #expect(set.skipped[8].reason.contains("only from configuration"))
    }

    @Test func sharedSecretsLoadOnlyWhenAllowed() throws {
        let secret = JSONValue.object(["keys": .array([.object(["kty": .string("oct"), "k": .string(String(repeating: "c2VjcmV0", count: 8))])])])
        #expect(try JSONWebKeySet(parsing: secret.serializedBytes).keys.isEmpty)
        let allowed = try JSONWebKeySet(parsing: secret.serializedBytes, allowSharedSecrets: true)
        #expect(allowed.keys.map(\.kind) == [.sharedSecret])
        #expect(throws: VerificationKey.Failure.secretTooShort) { try VerificationKey.sharedSecret(id: nil, Array("short".utf8)) }
    }

    @Test func refusesWhatIsNotAKeySet() {
        for text in ["[]", "{}", "{\"keys\":{}}", "not json"] {
            #expect(throws: JSONWebKeySet.Failure.self) { try JSONWebKeySet(parsing: Array(text.utf8)) }
        }
        let many = JSONValue.object(["keys": .array(Array(repeating: .object([:]), count: JSONWebKeySet.maxKeys + 1))])
        #expect(throws: JSONWebKeySet.Failure.self) { try JSONWebKeySet(parsing: many.serializedBytes) }
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.decode("") == [])
        #expect(Base64URL.decode("AQ") == [1])
        #expect(Base64URL.decode("_-8") == [0xFF, 0xEF])
        for bad in ["AR", "AQ==", "A", "AQ\n", "+/8", "AQ AQ"] { #expect(Base64URL.decode(bad) == nil, "\(bad)") }
    }
}
