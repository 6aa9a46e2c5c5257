import FoundationEssentials

/// Responses remembered per (caller credential, Idempotency-Key) for 24 hours.
///
/// Guarantees: within the window a key answers exactly the stored reply, whatever the new
/// request's body, path or query (the docs: "Sending the same key twice returns the cached
/// response"); a dry-run's reply is stored like any other, so a dry-run burns its key. At
/// `storedAt + 24 h` and later the key is forgotten and the next request executes afresh.
/// Keys are scoped by the bearer token: two managers never see each other's replies.
/// Memory is bounded: expired entries are swept periodically, and beyond `limit` live
/// entries the oldest are forgotten early (a deliberate, documented departure from the 24 h
/// promise that only a sustained benchmark can reach).
struct IdempotencyCache: Sendable {
    struct Entry: Sendable {
        var reply: SandboxReply
        var storedAt: Date
    }

    private struct Key: Hashable, Sendable {
        var credential: String
        var idempotencyKey: String
    }

    /// Rokt's dedup window.
    static let window: TimeInterval = 24 * 60 * 60
    /// Expired entries are swept once per this many stores, so memory stays bounded by the
    /// traffic of one window.
    static let sweepInterval = 1024

    let limit: Int
    private var entries: [Key: Entry] = [:]
    private var storesSinceSweep = 0

    init(limit: Int = 50_000) { self.limit = max(1, limit) }

    var count: Int { entries.count }

    /// The stored reply, or nil when the key is unknown or its 24 h have passed.
    mutating func lookup(credential: String, key: String, now: Date) -> SandboxReply? {
        let id = Key(credential: credential, idempotencyKey: key)
        guard let entry = entries[id] else { return nil }
        guard now.timeIntervalSince(entry.storedAt) < Self.window else {
            entries[id] = nil
            return nil
        }
        return entry.reply
    }

    mutating func store(_ reply: SandboxReply, credential: String, key: String, now: Date) {
        entries[Key(credential: credential, idempotencyKey: key)] = Entry(reply: reply, storedAt: now)
        storesSinceSweep += 1
        if storesSinceSweep >= Self.sweepInterval || entries.count > limit {
            storesSinceSweep = 0
            entries = entries.filter { now.timeIntervalSince($0.value.storedAt) < Self.window }
        }
        if entries.count > limit {
            // Down to three quarters of the limit, oldest first: amortised O(1) per store.
            let oldest = entries.sorted { $0.value.storedAt < $1.value.storedAt }.prefix(entries.count - limit * 3 / 4)
            for (key, _) in oldest { entries[key] = nil }
        }
    }

    mutating func removeAll() {
        entries.removeAll()
        storesSinceSweep = 0
    }
}
