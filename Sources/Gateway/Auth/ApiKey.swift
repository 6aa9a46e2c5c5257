import HTTP
/// What a key may do.
public enum Scope: String, Codable, Sendable, CaseIterable, Comparable {
    case read, write, webhooks, admin
    public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
}

/// A caller's credential as stored: only the SHA-256 of the key, never the key.
public struct ApiKey: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var scopes: Set<Scope>
    /// The merchant account ids the key may touch; nil means all of them.
    public var merchants: Set<String>?
    public var createdAt: Int64
    public var revokedAt: Int64?

    public var isActive: Bool { revokedAt == nil }

    /// `admin` implies every other scope.
    public func allows(_ scope: Scope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }

    public func allows(merchant: String) -> Bool { merchants?.contains(merchant) ?? true }
}

/// Minting and recognising key material: `rgw_` + 32 random bytes in URL-safe base64.
public enum ApiKeyMaterial {
    public static let prefix = "rgw_"

    public static func mint() -> String { prefix + Digest.base64URL(Digest.randomBytes(32)) }

    /// The stored form: hex SHA-256. Keys carry 256 bits of entropy, so an unsalted fast hash is enough.
    public static func hash(_ key: String) -> String { Digest.sha256Hex(key) }
}
