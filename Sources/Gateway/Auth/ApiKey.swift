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
    public var kind: ApiKeyKind = .secret
    /// A publishable key's browser origins (lower-cased `scheme://host[:port]`); nil for a secret key.
    public var origins: Set<String>? = nil

    public var isActive: Bool { revokedAt == nil }

    /// `admin` implies every other scope.
    public func allows(_ scope: Scope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }

    public func allows(merchant: String) -> Bool { merchants?.contains(merchant) ?? true }
}

/// What a key is for (README.md, "Publishable keys for the checkout page").
public enum ApiKeyKind: String, Codable, Sendable {
    /// `rgw_…`: a server's key, with scopes and merchants.
    case secret
    /// `pk_…`: embedded in a checkout page; placements only, from its origins only.
    case publishable

    /// What its material starts with.
    public var prefix: String {
        switch self {
        case .secret: "rgw_"
        case .publishable: "pk_"
        }
    }
}

/// Minting and recognising key material: the kind's prefix + 32 random bytes in URL-safe base64.
public enum ApiKeyMaterial {
    public static let prefix = ApiKeyKind.secret.prefix

    public static func mint(_ kind: ApiKeyKind = .secret) -> String { kind.prefix + Digest.base64URL(Digest.randomBytes(32)) }

    /// The kind whose prefix `material` has; nil for anything else (a JWT, say).
    public static func kind(of material: String) -> ApiKeyKind? {
        [ApiKeyKind.secret, .publishable].first { material.hasPrefix($0.prefix) }
    }

    /// The stored form: hex SHA-256. Keys carry 256 bits of entropy, so an unsalted fast hash is enough.
    public static func hash(_ key: String) -> String { Digest.sha256Hex(key) }
}
