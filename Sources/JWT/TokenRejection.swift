/// Why a token was refused. `description` is RFC 6750's `error_description`: short, fixed text
/// that never quotes the token or a claim's value.
public enum TokenRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case tooLarge
    case malformed
    /// `alg` is `none`, unknown, or outside the configured allow-list.
    case algorithmNotAllowed
    /// The header names a `crit` extension; none is understood here (RFC 7515 §4.1.11).
    case criticalHeader
    /// `typ` is neither `JWT` nor an access token's `at+jwt` (RFC 9068 §2.1).
    case wrongType
    /// No key has the token's `kid`: worth refreshing the key set once.
    case unknownKey
    /// No `kid`, and the key set holds more than one key.
    case missingKeyId
    /// The selected key cannot verify the header's `alg` (an RSA key named for HS256, say).
    case algorithmKeyMismatch
    case badSignature
    case expired
    case notYetValid
    case issuedInTheFuture
    case wrongIssuer
    case wrongAudience
    /// A claim the gateway needs is absent (`exp`, `sub`, …).
    case missingClaim(String)
    /// A claim has the wrong JSON type.
    case malformedClaim(String)

    public var description: String {
        switch self {
        case .tooLarge: "the token is too long"
        case .malformed: "the token is not a well-formed JWT"
        case .algorithmNotAllowed: "the token's signing algorithm is not accepted"
        case .criticalHeader: "the token has critical header parameters"
        case .wrongType: "the token's type is not JWT"
        case .unknownKey: "the token's signing key is unknown"
        case .missingKeyId: "the token has no key id"
        case .algorithmKeyMismatch: "the token's algorithm does not match its key"
        case .badSignature: "the token's signature is invalid"
        case .expired: "the token expired"
        case .notYetValid: "the token is not valid yet"
        case .issuedInTheFuture: "the token was issued in the future"
        case .wrongIssuer: "the token's issuer is not accepted"
        case .wrongAudience: "the token is not for this audience"
        case .missingClaim(let name): "the token has no \(name) claim"
        case .malformedClaim(let name): "the token's \(name) claim is malformed"
        }
    }
}
