import Synchronization

/// The active API keys in memory, so authentication never waits on the store. Reloaded when
/// the key set's version moves: at once for a change this process hears of, and polled every
/// second for one made by another process (`rokt-gateway keys …`).
public final class KeyRing: Sendable {
    /// The active keys by hash and the key set's version they were read at, replaced together.
    private struct Loaded {
        var version: Int64 = -1
        var byHash: [String: ApiKey] = [:]
        /// Every origin of an active publishable key (CORS preflights carry no key: `CORSPolicy`).
        var publishableOrigins: Set<String> = []
    }
    private let loaded = Mutex(Loaded())
    /// Keys of this process alone, never stored (sandbox mode's demo key).
    private let ephemeral = Mutex<[String: ApiKey]>([:])
    private let store: any ApiKeyStore & CommitFeed
    private let lookups = Atomic<Int>(0)

    init(store: any ApiKeyStore & CommitFeed) { self.store = store }

    /// Keys looked up so far (tests check that a request is authenticated once).
    var authentications: Int { lookups.load(ordering: .relaxed) }

    /// The key for `presented` material, if active.
    public func authenticate(_ presented: String) -> ApiKey? {
        lookups.add(1, ordering: .relaxed)
        let hash = ApiKeyMaterial.hash(presented)
        return loaded.withLock { $0.byHash[hash] } ?? ephemeral.withLock { $0[hash] }
    }

    /// Whether an active publishable key lists `origin` (lower-cased `scheme://host[:port]`).
    public func isPublishableOrigin(_ origin: String) -> Bool {
        loaded.withLock { $0.publishableOrigins.contains(origin) }
    }

    /// Accepts `material` as `key` in this process only: nothing reaches the database, so the
    /// key ends with the process.
    public func admitForThisProcess(_ material: String, as key: ApiKey) {
        ephemeral.withLock { $0[ApiKeyMaterial.hash(material)] = key }
    }

    /// Reloads when the stored version moved; returns whether it did.
    @discardableResult
    func refresh() async throws -> Bool {
        let known = loaded.withLock { $0.version }
        let (current, read) = try await store.activeKeys(unlessVersion: known)
        guard var read else { return false }
        // The public demo key is never honoured from a database (an older sandbox run may have stored it).
        read[SandboxDemoKey.hash] = nil
        // Versions only grow: a slower concurrent refresh that read an older set must not replace a newer one.
        return loaded.withLock { loaded in
            guard current > loaded.version else { return false }
            let origins = read.values.lazy.filter { $0.kind == .publishable }.flatMap { $0.origins ?? [] }
            loaded = Loaded(version: current, byHash: read, publishableOrigins: Set(origins))
            return true
        }
    }

    /// Reloads on every change notice, and polls, until cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        let changed = WakeSignal()
        let observation = store.observe { commit in if commit == .apiKeysChanged { changed.signal() } }
        defer { observation.cancel() }
        while !Task.isCancelled {
            await changed.wait(timeout: interval)
            _ = try? await refresh()
        }
    }
}

/// `serve --sandbox`'s fixed, documented API key. Anyone can read it in the README, so it is only
/// ever held in the memory of a sandbox-mode process: never stored, never accepted from a
/// database, refused as GATEWAY_BOOTSTRAP_API_KEY.
public enum SandboxDemoKey {
    public static let material = "rgw_sandbox_demo_key"
    static let hash = ApiKeyMaterial.hash(material)

    /// The all-scopes key it stands for in a sandbox-mode process.
    public static func key(now: Int64) -> ApiKey {
        ApiKey(id: "key_sandbox_demo", name: "sandbox demo (not stored)", scopes: Set(Scope.allCases), merchants: nil, createdAt: now, revokedAt: nil)
    }
}
