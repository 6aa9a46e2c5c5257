/// Creating, listing and revoking API keys (the `keys` commands and the bootstrap key).
public struct ApiKeyService: Sendable {
    let store: any ApiKeyStore
    let clock: any WallClock

    /// Creates a key and returns it with its one-time secret.
    public func create(name: String, scopes: Set<Scope>, merchants: Set<String>?) async throws -> (key: ApiKey, secret: String) {
        let secret = ApiKeyMaterial.mint()
        let key = ApiKey(
            id: Identifiers.prefixed("key_", now: clock.nowMillis()), name: name, scopes: scopes, merchants: merchants,
            createdAt: clock.nowMillis(), revokedAt: nil)
        try await store.insertKey(key, hash: try Self.storableHash(of: secret))
        return (key, secret)
    }

    /// Creates a publishable key for these browser origins (already normalised, at least one) and
    /// returns it with its material. It has no scope and no merchant: what it may do is fixed by
    /// its kind (`Authorization`).
    public func createPublishable(name: String, origins: Set<String>) async throws -> (key: ApiKey, material: String) {
        precondition(!origins.isEmpty, "a publishable key needs an origin")
        let material = ApiKeyMaterial.mint(.publishable)
        let now = clock.nowMillis()
        let key = ApiKey(
            id: Identifiers.prefixed("key_", now: now), name: name, scopes: [], merchants: [], createdAt: now, revokedAt: nil,
            kind: .publishable, origins: origins)
        try await store.insertKey(key, hash: try Self.storableHash(of: material))
        return (key, material)
    }

    /// Makes this material the admin key GATEWAY_BOOTSTRAP_API_KEY names: a changed value replaces
    /// (revokes) the previous bootstrap key, the same value changes nothing, and keys made with
    /// `keys create` are never touched (`ApiKeyStore.installBootstrapKey`).
    @discardableResult
    public func installBootstrapKey(_ secret: String) async throws -> BootstrapKeyChange {
        let now = clock.nowMillis()
        let key = ApiKey(
            id: Identifiers.prefixed("key_", now: now), name: "bootstrap", scopes: Set(Scope.allCases),
            merchants: nil, createdAt: now, revokedAt: nil)
        let change = try await store.installBootstrapKey(key, hash: try Self.storableHash(of: secret), now: now)
        if case .heldByOrdinaryKey(let id) = change {
            throw ConfigurationError(
                variable: "GATEWAY_BOOTSTRAP_API_KEY", message: "is the key \(id), made with `keys create`; choose a secret of its own for the bootstrap key")
        }
        return change
    }

    public func list() async throws -> [ApiKey] {
        try await store.allKeys()
    }

    public func revoke(id: String) async throws -> Bool {
        try await store.revokeKey(id: id, now: clock.nowMillis())
    }

    /// The demo key is public: it lives in a sandbox process's memory, never in a database.
    private static func storableHash(of secret: String) throws -> String {
        let hash = ApiKeyMaterial.hash(secret)
        guard hash != SandboxDemoKey.hash else {
            throw ConfigurationError(variable: "GATEWAY_BOOTSTRAP_API_KEY", message: "must not be the public sandbox demo key")
        }
        return hash
    }
}
