import JSON

/// A JWS in compact serialization (RFC 7515 §7.1), taken apart but not yet trusted: three
/// strict base64url segments whose first two are JSON objects.
public struct CompactJWS: Sendable {
    /// Longer tokens are refused unread: no identity provider's access token comes near it, and
    /// it bounds the work an unauthenticated caller can ask for.
    public static let maxLength = 16 * 1024

    public let header: [String: JSONValue]
    public let payload: [String: JSONValue]
    /// `BASE64URL(header) . BASE64URL(payload)`: the bytes the signature covers.
    public let signingInput: [UInt8]
    public let signature: [UInt8]

    /// The header's `alg`, as written (`none` and unknown names included; the verifier refuses them).
    public var algorithmName: String? { header["alg"]?.stringValue }
    public var keyId: String? { header["kid"]?.stringValue }

    public init(parsing token: String) throws(TokenRejection) {
        guard token.utf8.count <= Self.maxLength else { throw .tooLarge }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed }
        guard let headerBytes = Base64URL.decode(Substring(parts[0])), let payloadBytes = Base64URL.decode(Substring(parts[1])),
            let signature = Base64URL.decode(Substring(parts[2]))
        else { throw .malformed }
        guard let header = Self.object(headerBytes), let payload = Self.object(payloadBytes) else { throw .malformed }
        self.header = header
        self.payload = payload
        signingInput = Array(parts[0]) + [UInt8(ascii: ".")] + Array(parts[1])
        self.signature = signature
    }

    private static func object(_ bytes: [UInt8]) -> [String: JSONValue]? {
        guard let value = try? JSONParser.parse(bytes) else { return nil }
        return value.objectValue
    }
}
