/// The few DER structures verification needs, built by hand so that OpenSSL reads keys through
/// one well-trodden door (`d2i_PUBKEY`) and ECDSA signatures in the form it verifies.
enum DER {
    /// SubjectPublicKeyInfo (RFC 5280 §4.1) of an RSA key (RFC 8017 A.1.1).
    static func rsaPublicKey(modulus: [UInt8], exponent: [UInt8]) -> [UInt8] {
        let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00]
        let key = sequence(integer(modulus) + integer(exponent))
        return sequence(sequence(rsaEncryption) + bitString(key))
    }

    /// SubjectPublicKeyInfo of a P-256 point (RFC 5480 §2): the uncompressed form `04 ‖ x ‖ y`.
    static func p256PublicKey(x: [UInt8], y: [UInt8]) -> [UInt8] {
        let ecPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
        let prime256v1: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        return sequence(sequence(ecPublicKey + prime256v1) + bitString([0x04] + x + y))
    }

    /// SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4).
    static func ed25519PublicKey(_ x: [UInt8]) -> [UInt8] {
        let idEd25519: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]
        return sequence(sequence(idEd25519) + bitString(x))
    }

    /// ECDSA-Sig-Value (RFC 3279 §2.2.3) from JWS's fixed-width `R ‖ S` (RFC 7518 §3.4).
    static func ecdsaSignature(r: ArraySlice<UInt8>, s: ArraySlice<UInt8>) -> [UInt8] {
        sequence(integer(Array(r)) + integer(Array(s)))
    }

    /// An unsigned big-endian INTEGER: leading zeros dropped, one put back when the top bit is set.
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop(while: { $0 == 0 }))
        if bytes.isEmpty || bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return [0x02] + length(bytes.count) + bytes
    }

    static func sequence(_ contents: [UInt8]) -> [UInt8] { [0x30] + length(contents.count) + contents }

    static func bitString(_ contents: [UInt8]) -> [UInt8] { [0x03] + length(contents.count + 1) + [0x00] + contents }

    static func length(_ count: Int) -> [UInt8] {
        guard count >= 0x80 else { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var rest = count
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}
