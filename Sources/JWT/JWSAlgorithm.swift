/// The JWS algorithms the gateway verifies (RFC 7518 §3, RFC 8037, RFC 9864). `none` is not one
/// of them, and nothing here signs.
public enum JWSAlgorithm: String, Sendable, CaseIterable, Comparable {
    case rs256 = "RS256"
    case ps256 = "PS256"
    case es256 = "ES256"
    /// Ed25519 under its older, polymorphic name (RFC 8037).
    case edDSA = "EdDSA"
    /// Ed25519 under its fully specified name (RFC 9864).
    case ed25519 = "Ed25519"
    case hs256 = "HS256"

    public static func < (a: JWSAlgorithm, b: JWSAlgorithm) -> Bool { a.rawValue < b.rawValue }

    /// The kind of key the algorithm needs: the key's type decides which algorithms a token
    /// signed with it may name (RFC 8725 §3.1), so an RSA public key can never serve as an HMAC secret.
    public var keyKind: KeyKind {
        switch self {
        case .rs256, .ps256: .rsa
        case .es256: .ecP256
        case .edDSA, .ed25519: .ed25519
        case .hs256: .sharedSecret
        }
    }
}

/// What a verification key is, which fixes the algorithms it may verify.
public enum KeyKind: String, Sendable, Equatable {
    case rsa, ecP256, ed25519, sharedSecret

    public var algorithms: Set<JWSAlgorithm> { Set(JWSAlgorithm.allCases.filter { $0.keyKind == self }) }
}
