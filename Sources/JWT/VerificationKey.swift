import COpenSSL

/// One key a token's signature can be checked with: a public key held by OpenSSL, or an HS256
/// shared secret. Made from a JWK (`JSONWebKey`) or from configuration.
public struct VerificationKey: Sendable {
    /// `kid`: how a token names the key it was signed with.
    public let id: String?
    public let kind: KeyKind
    /// The algorithms this key verifies: those of its kind, narrowed to one when its JWK had `alg`.
    public let algorithms: Set<JWSAlgorithm>
    private let material: Material

    private enum Material: Sendable {
        case publicKey(PublicKey)
        case secret([UInt8])
    }

    /// Shortest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
    public static let minimumRSABits = 2048
    /// Shortest HS256 secret accepted (RFC 7518 §3.2: a key of the same size as the hash output).
    public static let minimumSecretBytes = 32

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case rsaKeyTooShort(bits: Int)
        case secretTooShort
        case rejectedByOpenSSL

        public var description: String {
            switch self {
            case .rsaKeyTooShort(let bits): "an RSA key of \(bits) bits is shorter than \(VerificationKey.minimumRSABits)"
            case .secretTooShort: "a shared secret must be at least \(VerificationKey.minimumSecretBytes) bytes"
            case .rejectedByOpenSSL: "OpenSSL does not accept the key"
            }
        }
    }

    public static func rsa(id: String?, modulus: [UInt8], exponent: [UInt8], algorithm: JWSAlgorithm? = nil) throws(Failure) -> VerificationKey {
        let key = try PublicKey(subjectPublicKeyInfo: DER.rsaPublicKey(modulus: modulus, exponent: exponent))
        guard key.bits >= minimumRSABits else { throw .rsaKeyTooShort(bits: key.bits) }
        return VerificationKey(id: id, kind: .rsa, algorithm: algorithm, material: .publicKey(key))
    }

    /// `x` and `y` must be 32 bytes each (checked by `JSONWebKey`); OpenSSL refuses a point off the curve.
    public static func p256(id: String?, x: [UInt8], y: [UInt8], algorithm: JWSAlgorithm? = nil) throws(Failure) -> VerificationKey {
        let key = try PublicKey(subjectPublicKeyInfo: DER.p256PublicKey(x: x, y: y))
        return VerificationKey(id: id, kind: .ecP256, algorithm: algorithm, material: .publicKey(key))
    }

    public static func ed25519(id: String?, x: [UInt8], algorithm: JWSAlgorithm? = nil) throws(Failure) -> VerificationKey {
        let key = try PublicKey(subjectPublicKeyInfo: DER.ed25519PublicKey(x))
        return VerificationKey(id: id, kind: .ed25519, algorithm: algorithm, material: .publicKey(key))
    }

    /// An HS256 secret; only ever from the gateway's own configuration, never from a fetched key set.
    public static func sharedSecret(id: String?, _ secret: [UInt8]) throws(Failure) -> VerificationKey {
        guard secret.count >= minimumSecretBytes else { throw .secretTooShort }
        return VerificationKey(id: id, kind: .sharedSecret, algorithm: .hs256, material: .secret(secret))
    }

    private init(id: String?, kind: KeyKind, algorithm: JWSAlgorithm?, material: Material) {
        self.id = id
        self.kind = kind
        algorithms = algorithm.map { [$0] } ?? kind.algorithms
        self.material = material
    }

    /// Whether `signature` is `algorithm`'s signature of `message` under this key. The caller has
    /// checked that `algorithm` is one of `algorithms`; a mismatch is refused here again.
    public func verifies(_ signature: [UInt8], of message: [UInt8], with algorithm: JWSAlgorithm) -> Bool {
        guard algorithms.contains(algorithm) else { return false }
        switch (material, algorithm) {
        case (.secret(let secret), .hs256): return SignatureCheck.hmacSHA256(secret: secret, message: message, signature: signature)
        case (.publicKey(let key), .rs256): return key.verify(signature, of: message, digest: EVP_sha256(), padding: nil)
        case (.publicKey(let key), .ps256): return key.verify(signature, of: message, digest: EVP_sha256(), padding: .pss)
        case (.publicKey(let key), .es256):
            // JWS carries R ‖ S, 32 bytes each; a DER signature (what OpenSSL emits) is refused.
            guard signature.count == 64 else { return false }
            let der = DER.ecdsaSignature(r: signature[0..<32], s: signature[32..<64])
            return key.verify(der, of: message, digest: EVP_sha256(), padding: nil)
        case (.publicKey(let key), .edDSA), (.publicKey(let key), .ed25519):
            return key.verify(signature, of: message, digest: nil, padding: nil)
        default: return false
        }
    }
}

/// An OpenSSL public key. `@unchecked Sendable` without a lock: the key is never modified after
/// `init`, and every verification makes its own `EVP_MD_CTX`, which openssl-threads(7) documents
/// as safe from many threads at once.
final class PublicKey: @unchecked Sendable {
    private let pointer: OpaquePointer

    enum Padding { case pss }

    init(subjectPublicKeyInfo der: [UInt8]) throws(VerificationKey.Failure) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            ERR_clear_error()
            throw .rejectedByOpenSSL
        }
        pointer = parsed
    }

    deinit { EVP_PKEY_free(pointer) }

    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// `digest` nil is Ed25519's one-shot verification (EVP_SIGNATURE-ED25519(7)).
    func verify(_ signature: [UInt8], of message: [UInt8], digest: OpaquePointer?, padding: Padding?) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, pointer) == 1 else { return false }
        if padding == .pss {
            // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the digest.
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, EVP_sha256()) == 1
            else { return false }
        }
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, msg.baseAddress, msg.count) == 1
            }
        }
    }
}

enum SignatureCheck {
    /// HMAC-SHA-256 compared in constant time, so timing does not reveal how much of a forged MAC matched.
    static func hmacSHA256(secret: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard signature.count == 32 else { return false }
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        let made = secret.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { data in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), data.baseAddress, data.count, &mac, &length) != nil
            }
        }
        guard made, length == 32 else { return false }
        return mac.withUnsafeBytes { a in signature.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, 32) == 0 } }
    }
}
