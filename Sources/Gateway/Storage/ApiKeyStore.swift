/// API keys and publishable keys, stored by the SHA-256 of their material, with their kind and
/// (publishable) origins.
///
/// What a backend must guarantee: every change (create, revoke) moves `activeKeys`'s version
/// in the same transaction, so a process holding an older version reloads; a change also
/// publishes `StoreCommit.apiKeysChanged` once committed (to this process at least; PostgreSQL:
/// NOTIFY, to every process). One key per hash. `installBootstrapKey` is one transaction.
protocol ApiKeyStore: Sendable {
    func insertKey(_ key: ApiKey, hash: String) async throws
    /// GATEWAY_BOOTSTRAP_API_KEY's rule. At most one key is the bootstrap key; keys made by
    /// `insertKey` are never changed. When the bootstrap key has `hash`: nothing changes (a revoked
    /// one stays revoked). When a key made by `insertKey` has it: nothing changes either
    /// (`.heldByOrdinaryKey`). Otherwise the previous bootstrap key, and any former one still active,
    /// is revoked (kept as a former bootstrap key), and the key with `hash` becomes the active
    /// bootstrap key: a former one with that hash is reinstated, else `key` is inserted.
    func installBootstrapKey(_ key: ApiKey, hash: String, now: Int64) async throws -> BootstrapKeyChange
    /// Revokes an active key; false when no active key has that id.
    func revokeKey(id: String, now: Int64) async throws -> Bool
    /// Every key, oldest first.
    func allKeys() async throws -> [ApiKey]
    /// The version of the key set and, unless it is `known`, the active keys by hash.
    func activeKeys(unlessVersion known: Int64) async throws -> (version: Int64, byHash: [String: ApiKey]?)
}

/// What `installBootstrapKey` did.
public enum BootstrapKeyChange: Equatable, Sendable {
    /// The bootstrap key already has this material.
    case unchanged(keyId: String)
    /// The material is now the active bootstrap key; `replaced` is the previous one, now revoked.
    case installed(keyId: String, replaced: String?)
    /// A key made with `keys create` has this material; nothing changed.
    case heldByOrdinaryKey(keyId: String)
}
