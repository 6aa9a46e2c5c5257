import ChildProcess
import Synchronization
import Testing

@testable import Gateway

/// Two refreshes of the key ring can overlap (the change notice's and the caller's own): the one
/// that read the older key set must never replace what the other read later.
@Suite struct KeyRingRefreshTests {
    /// Answers each `activeKeys` with the key set of the version it is told, when it is told.
    final class ScriptedKeys: ApiKeyStore, CommitFeed, Sendable {
        struct Unused: Error {}
        private let answers = Mutex<[CheckedContinuation<(Int64, [String: ApiKey]), Never>]>([])

        var waiting: Int { answers.withLock { $0.count } }

        /// Answers the `index`th waiting read (in the order they arrived).
        func answer(_ index: Int, version: Int64, keys: [String: ApiKey]) {
            answers.withLock { $0[index] }.resume(returning: (version, keys))
        }

        func activeKeys(unlessVersion known: Int64) async throws -> (version: Int64, byHash: [String: ApiKey]?) {
            let (version, keys) = await withCheckedContinuation { continuation in answers.withLock { $0.append(continuation) } }
            return (version, version == known ? nil : keys)
        }

        func insertKey(_ key: ApiKey, hash: String) async throws { throw Unused() }
        func installBootstrapKey(_ key: ApiKey, hash: String, now: Int64) async throws -> BootstrapKeyChange { throw Unused() }
        func revokeKey(id: String, now: Int64) async throws -> Bool { throw Unused() }
        func allKeys() async throws -> [ApiKey] { throw Unused() }
        func observe(_ observer: @escaping @Sendable (StoreCommit) -> Void) -> CommitObservation { CommitObservation {} }
    }

    static func key(_ id: String) -> ApiKey { ApiKey(id: id, name: id, scopes: [.read], merchants: nil, createdAt: 0, revokedAt: nil) }

    @Test func aRefreshThatReadAnOlderKeySetNeverReplacesANewerOne() async throws {
        let store = ScriptedKeys()
        let ring = KeyRing(store: store)
        let slow = Task { try await ring.refresh() }
        #expect(await eventually { store.waiting == 1 })
        let fast = Task { try await ring.refresh() }
        #expect(await eventually { store.waiting == 2 })
        // The later read sees the new key (version 2) and lands first…
        store.answer(1, version: 2, keys: [ApiKeyMaterial.hash("rgw_new"): Self.key("key_new")])
        #expect(try await fast.value)
        // …then the earlier read, from before the key was created, comes back.
        store.answer(0, version: 1, keys: [ApiKeyMaterial.hash("rgw_old"): Self.key("key_old")])
        #expect(try await slow.value == false)
        #expect(ring.authenticate("rgw_new")?.id == "key_new")
        #expect(ring.authenticate("rgw_old") == nil)
    }
}
