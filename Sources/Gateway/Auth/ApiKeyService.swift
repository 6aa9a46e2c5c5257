import Store

/// Creating, listing and revoking API keys (the `keys` commands and the bootstrap key).
public struct ApiKeyService: Sendable {
    let database: Database
    let clock: any WallClock

    /// Creates a key and returns it with its one-time secret.
    public func create(name: String, scopes: Set<Scope>, merchants: Set<String>?) async throws -> (key: ApiKey, secret: String) {
        let secret = ApiKeyMaterial.mint()
        let key = ApiKey(id: Identifiers.prefixed("key_", now: clock.nowMillis()), name: name, scopes: scopes, merchants: merchants,
                         createdAt: clock.nowMillis(), revokedAt: nil)
        try await database.write { db in try ApiKeyRecords.insert(key, hash: ApiKeyMaterial.hash(secret), in: db) }
        return (key, secret)
    }

    /// Makes sure an admin key with exactly this material exists (GATEWAY_BOOTSTRAP_API_KEY).
    public func ensureBootstrapKey(_ secret: String) async throws {
        let now = clock.nowMillis()
        try await database.write { db in
            let hash = ApiKeyMaterial.hash(secret)
            guard try !ApiKeyRecords.hashExists(hash, in: db) else { return }
            let key = ApiKey(id: Identifiers.prefixed("key_", now: now), name: "bootstrap", scopes: Set(Scope.allCases),
                             merchants: nil, createdAt: now, revokedAt: nil)
            try ApiKeyRecords.insert(key, hash: hash, in: db)
        }
    }

    public func list() async throws -> [ApiKey] {
        try await database.read { db in try ApiKeyRecords.all(in: db) }
    }

    public func revoke(id: String) async throws -> Bool {
        let now = clock.nowMillis()
        return try await database.write { db in try ApiKeyRecords.revoke(id: id, now: now, in: db) }
    }
}
