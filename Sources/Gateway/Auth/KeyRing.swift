import Store
import Synchronization

/// The active API keys in memory, so authentication never waits on the store. Reloaded when
/// another process (`rokt-gateway keys …`) bumps `keys_version`: polled every second.
public final class KeyRing: Sendable {
    private let keys = Mutex<[String: ApiKey]>([:])
    private let version = Mutex<Int64>(-1)
    private let database: Database

    init(database: Database) { self.database = database }

    /// The key for `presented` material, if active.
    public func authenticate(_ presented: String) -> ApiKey? {
        let hash = ApiKeyMaterial.hash(presented)
        return keys.withLock { $0[hash] }
    }

    /// Reloads when the stored version moved; returns whether it did.
    @discardableResult
    func refresh() async throws -> Bool {
        let known = version.withLock { $0 }
        let (current, loaded) = try await database.read { db -> (Int64, [String: ApiKey]?) in
            let current = try ApiKeyRecords.version(in: db)
            return (current, current == known ? nil : try ApiKeyRecords.activeByHash(in: db))
        }
        guard let loaded else { return false }
        keys.withLock { $0 = loaded }
        version.withLock { $0 = current }
        return true
    }

    /// Polls for changes until cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await refresh()
        }
    }
}
