import HTTP

/// The legacy `md5` method's answer (https://www.postgresql.org/docs/current/auth-password.html):
/// `"md5" + md5hex(md5hex(password + user) + salt)`, sent in a PasswordMessage. It is replayable by
/// anyone who stole the stored hash, so `AuthenticationPolicy` allows it only over TLS by default.
public enum MD5Password {
    /// The PasswordMessage text for AuthenticationMD5Password's 4-byte `salt`.
    public static func response(user: String, password: String, salt: [UInt8]) -> String {
        let stored = Digest.hex(Digest.md5(Array((password + user).utf8)))
        return "md5" + Digest.hex(Digest.md5(Array(stored.utf8) + salt))
    }
}
