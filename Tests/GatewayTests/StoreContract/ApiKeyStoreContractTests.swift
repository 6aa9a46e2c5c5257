import Store
import Testing
@testable import Gateway

/// GATEWAY_BOOTSTRAP_API_KEY's rule as every backend must keep it (`ApiKeyStore.installBootstrapKey`).
@Suite(.timeLimit(.minutes(1))) struct ApiKeyStoreContractTests {
    typealias F = Fixture

    static func bootstrap(_ id: String, at now: Int64) -> ApiKey {
        ApiKey(id: id, name: "bootstrap", scopes: Set(Scope.allCases), merchants: nil, createdAt: now, revokedAt: nil)
    }

    static func activeHashes(_ store: any GatewayStore) async throws -> Set<String> {
        Set(try await store.activeKeys(unlessVersion: -1).byHash?.keys.map { $0 } ?? [])
    }

    /// A publishable key keeps its kind and origins through the store and leaves with its revocation;
    /// a key stored without a kind is a secret key.
    @Test(arguments: StoreBackends.all)
    func publishableKeysKeepTheirKindAndOrigins(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let secret = ApiKey(id: "key_s", name: "server", scopes: [.read], merchants: ["m1"], createdAt: F.t0, revokedAt: nil)
            let publishable = ApiKey(
                id: "key_p", name: "checkout", scopes: [], merchants: [], createdAt: F.t0 + 1, revokedAt: nil, kind: .publishable,
                origins: ["https://shop.example.com", "http://localhost:3000"])
            try await store.insertKey(secret, hash: "hash-s")
            try await store.insertKey(publishable, hash: "hash-p")
            #expect(try await store.allKeys() == [secret, publishable])
            let active = try #require(try await store.activeKeys(unlessVersion: -1).byHash)
            #expect(active["hash-p"] == publishable && active["hash-s"]?.kind == .secret && active["hash-s"]?.origins == nil)
            #expect(try await store.revokeKey(id: "key_p", now: F.t0 + 2))
            #expect(try await Self.activeHashes(store) == ["hash-s"])
            #expect(try await store.allKeys().last?.kind == .publishable)
        }
    }

    /// A key stored before keys had kinds is a secret key after the migration.
    @Test func keysFromBeforePublishableKeysAreSecretKeys() async throws {
        try await StoreBackends.sqlite.withLocation { directory in
            do {
                let connection = try SQLiteConnection(path: directory + "/gateway.sqlite3")
                try Migrator(Array(Schema.migrations.prefix { $0.version < 8 })).migrate(connection)
                try connection.run(
                    "INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES ('key_old', 'old', 'hash-old', 'read', 1)")
            }
            let store = try await StoreBackends.sqlite.open(directory)
            let keys = try await store.allKeys()
            await store.close()
            #expect(keys.map(\.kind) == [.secret] && keys.first?.origins == nil)
        }
    }

    @Test(arguments: StoreBackends.all)
    func aChangedBootstrapKeyReplacesThePreviousOneAndNoOtherKey(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let ops = ApiKey(id: "key_ops", name: "ops", scopes: [.admin], merchants: nil, createdAt: F.t0, revokedAt: nil)
            try await store.insertKey(ops, hash: "hash-ops")
            let first = try await store.installBootstrapKey(Self.bootstrap("key_a", at: F.t0 + 1), hash: "hash-a", now: F.t0 + 1)
            #expect(first == .installed(keyId: "key_a", replaced: nil))
            let (afterA, _) = try await store.activeKeys(unlessVersion: -1)

            // The same material again: nothing changes, not even the version.
            let again = try await store.installBootstrapKey(Self.bootstrap("key_a2", at: F.t0 + 2), hash: "hash-a", now: F.t0 + 2)
            #expect(again == .unchanged(keyId: "key_a"))
            #expect(try await store.activeKeys(unlessVersion: afterA).byHash == nil)
            // The material of a key made with insertKey: nothing changes.
            let taken = try await store.installBootstrapKey(Self.bootstrap("key_x", at: F.t0 + 3), hash: "hash-ops", now: F.t0 + 3)
            #expect(taken == .heldByOrdinaryKey(keyId: "key_ops"))
            #expect(try await store.activeKeys(unlessVersion: afterA).byHash == nil)

            let commits = CommitRecorder(store)
            defer { commits.cancel() }
            let second = try await store.installBootstrapKey(Self.bootstrap("key_b", at: F.t0 + 4), hash: "hash-b", now: F.t0 + 4)
            #expect(second == .installed(keyId: "key_b", replaced: "key_a"))
            #expect(await commits.next { $0 == .apiKeysChanged } == .apiKeysChanged)
            #expect(try await store.activeKeys(unlessVersion: afterA).byHash != nil)
            #expect(try await Self.activeHashes(store) == ["hash-ops", "hash-b"])
            let keys = try await store.allKeys()
            #expect(keys.map(\.id) == ["key_ops", "key_a", "key_b"])
            #expect(keys.first { $0.id == "key_a" }?.revokedAt == F.t0 + 4)
            #expect(keys.first { $0.id == "key_ops" } == ops)

            // Back to the earlier material: its record is reinstated, the one it replaces revoked.
            let back = try await store.installBootstrapKey(Self.bootstrap("key_a3", at: F.t0 + 5), hash: "hash-a", now: F.t0 + 5)
            #expect(back == .installed(keyId: "key_a", replaced: "key_b"))
            #expect(try await Self.activeHashes(store) == ["hash-ops", "hash-a"])
            #expect(try await store.allKeys().count == 3)
        }
    }

    /// An operator who revoked the bootstrap key keeps it revoked across restarts with the same value.
    @Test(arguments: StoreBackends.all)
    func aRevokedBootstrapKeyStaysRevokedUntilTheValueChanges(_ backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.installBootstrapKey(Self.bootstrap("key_a", at: F.t0), hash: "hash-a", now: F.t0)
            #expect(try await store.revokeKey(id: "key_a", now: F.t0 + 1))
            let same = try await store.installBootstrapKey(Self.bootstrap("key_a2", at: F.t0 + 2), hash: "hash-a", now: F.t0 + 2)
            #expect(same == .unchanged(keyId: "key_a"))
            #expect(try await Self.activeHashes(store).isEmpty)
            let next = try await store.installBootstrapKey(Self.bootstrap("key_b", at: F.t0 + 3), hash: "hash-b", now: F.t0 + 3)
            #expect(next == .installed(keyId: "key_b", replaced: "key_a"))
            #expect(try await Self.activeHashes(store) == ["hash-b"])
            // Replacing keeps the revocation time the operator's revoke set.
            #expect(try await store.allKeys().first { $0.id == "key_a" }?.revokedAt == F.t0 + 1)
        }
    }
}
