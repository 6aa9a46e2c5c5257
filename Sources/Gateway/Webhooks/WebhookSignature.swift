import HTTP
/// Standard Webhooks signing: `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` keyed with the
/// bytes of the secret after `whsec_`. Several signatures (one per live secret, during a
/// rotation's grace period) go space-separated in one `webhook-signature` header.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"
    /// 24 random bytes: within Standard Webhooks' 24–64 and 192 bits of key.
    public static let secretLength = 24

    /// A fresh secret's key bytes, from OpenSSL's CSPRNG.
    static func newSecretKey() -> [UInt8] { Digest.randomBytes(secretLength) }

    /// How the secret is shown to the partner (once): `whsec_` + base64 of the key bytes.
    public static func display(_ key: [UInt8]) -> String { secretPrefix + Digest.base64(key) }

    /// The `v1,…` signature of one message under one key.
    public static func sign(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        "v1," + Digest.base64(Digest.hmacSHA256(key: key, message: signedContent(id: id, timestamp: timestamp, body: body)))
    }

    /// The `webhook-signature` header value: one signature per key, space-separated.
    public static func header(id: String, timestamp: Int64, body: [UInt8], keys: [[UInt8]]) -> String {
        keys.map { sign(id: id, timestamp: timestamp, body: body, key: $0) }.joined(separator: " ")
    }

    /// True when any `v1,` signature of `header` matches under `key` (compared in constant time),
    /// as a receiver checks it.
    public static func verify(header: String, id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> Bool {
        let expected = Array(sign(id: id, timestamp: timestamp, body: body, key: key).utf8)
        var matched = false
        // No early exit: every candidate is compared, so timing does not tell which one matched.
        for candidate in header.split(separator: " ") where Digest.constantTimeEquals(Array(candidate.utf8), expected) { matched = true }
        return matched
    }

    static func signedContent(id: String, timestamp: Int64, body: [UInt8]) -> [UInt8] {
        Array("\(id).\(timestamp).".utf8) + body
    }
}
