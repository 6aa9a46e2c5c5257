/// API keys, stored by the SHA-256 of their material.
///
/// What a backend must guarantee: every change (create, revoke) moves `activeKeys`'s version
/// in the same transaction, so a process holding an older version reloads; a change also
/// publishes `StoreCommit.apiKeysChanged` once committed (to this process at least; PostgreSQL:
/// NOTIFY, to every process). `insertKeyUnlessHashExists` is atomic: one key per hash.
protocol ApiKeyStore: Sendable {
    func insertKey(_ key: ApiKey, hash: String) async throws
    /// Answers whether it inserted (false: a key with this hash exists, active or not).
    func insertKeyUnlessHashExists(_ key: ApiKey, hash: String) async throws -> Bool
    /// Revokes an active key; false when no active key has that id.
    func revokeKey(id: String, now: Int64) async throws -> Bool
    /// Every key, oldest first.
    func allKeys() async throws -> [ApiKey]
    /// The version of the key set and, unless it is `known`, the active keys by hash.
    func activeKeys(unlessVersion known: Int64) async throws -> (version: Int64, byHash: [String: ApiKey]?)
}
