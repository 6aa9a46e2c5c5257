@testable import JWT

// Bearer tokens and JWK Sets from strangers: the input is tried as a compact JWS against a fixed
// HS256 secret and an EC key (it must never verify: the fuzzer cannot know the secret, nor sign
// for P-256), and as a JWK Set (parsing never crashes; every key it yields verifies something).

let ecKey = try! VerificationKey.p256(
    id: "ec", x: Base64URL.decode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU")!,
    y: Base64URL.decode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")!)

/// The secret is made per input: held in a global, LeakSanitizer cannot see the bytes its enum
/// payload points to (Swift keeps spare bits in that pointer) and reports them at exit.
func keys() -> [VerificationKey] { [try! VerificationKey.sharedSecret(id: "k1", Array(repeating: 0x5A, count: 32)), ecKey] }

let policy = TokenPolicy(issuer: "https://issuer.example", audience: "rokt-gateway")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWTTokens(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        let token = String(decoding: input, as: UTF8.self)
        let verdict = Result { () throws(TokenRejection) in
            try TokenVerifier.verify(token, keys: keys(), policy: policy, nowMillis: 1_790_000_000_000)
        }
        if case .success(let verified) = verdict { invariant(false, "a token no one signed verified: \(verified.claims)") }
        if let set = try? JSONWebKeySet(parsing: input, allowSharedSecrets: true) {
            for key in set.keys { invariant(!key.algorithms.isEmpty, "a key that verifies nothing: \(key.id ?? "-")") }
        }
    }
    return 0
}
