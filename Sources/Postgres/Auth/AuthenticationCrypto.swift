import COpenSSL

/// The primitives PostgreSQL's password methods need, all through OpenSSL's libcrypto: SHA-256,
/// HMAC-SHA-256 and PBKDF2 for SCRAM (RFC 5802, RFC 7677), MD5 for the legacy `md5` method,
/// strict base64 (RFC 4648 §4) for SCRAM's attributes.
enum AuthenticationCrypto {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &out) }
        return out
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        return out
    }

    /// PBKDF2-HMAC-SHA-256 with a 32-byte output: SCRAM's `Hi(password, salt, i)` (RFC 5802 §2.2).
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        password.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { p in
                salt.withUnsafeBufferPointer { s in
                    _ = PKCS5_PBKDF2_HMAC(p.baseAddress, Int32(p.count), s.baseAddress, Int32(s.count), Int32(iterations), EVP_sha256(), 32, &out)
                }
            }
        }
        return out
    }

    static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 16
        bytes.withUnsafeBufferPointer { _ = EVP_Digest($0.baseAddress, $0.count, &out, &length, EVP_md5(), nil) }
        return out
    }

    /// Compares without an early exit, so timing does not reveal how much of a signature matched.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// Bytes from OpenSSL's CSPRNG; nil only if it cannot be seeded, which callers must not paper over.
    static func randomBytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        return RAND_bytes(&out, Int32(count)) == 1 ? out : nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let written = bytes.withUnsafeBufferPointer { EVP_EncodeBlock(&out, $0.baseAddress, Int32($0.count)) }
        return String(decoding: out[..<Int(written)], as: UTF8.self)
    }

    /// Decodes padded base64, or nil when `text` is not exactly that: OpenSSL's decoder alone
    /// would skip whitespace and turn padding into zero bytes.
    static func base64Decoded(_ text: Substring) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        let padding = input.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
        guard padding <= 2, input.dropLast(padding).allSatisfy(isBase64Digit) else { return nil }
        guard !input.isEmpty else { return [] }
        var out = [UInt8](repeating: 0, count: input.count / 4 * 3)
        let decoded = input.withUnsafeBufferPointer { EVP_DecodeBlock(&out, $0.baseAddress, Int32($0.count)) }
        guard decoded == out.count else { return nil }
        return Array(out.dropLast(padding))
    }

    private static func isBase64Digit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
