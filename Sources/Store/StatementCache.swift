/// A bounded map from SQL text to its prepared statement, evicting the least recently used
/// entry when full, so that dynamically built SQL (an `IN (?, ?, …)` of varying length)
/// cannot grow a connection's memory without bound. Pure bookkeeping: it never touches SQLite.
struct StatementCache<Statement> {
    private struct Entry {
        let statement: Statement
        var lastUsed: UInt64
    }

    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a statement cache needs room for at least one statement")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The statement cached for `sql`, marked as just used.
    mutating func lookup(_ sql: String) -> Statement? {
        clock &+= 1
        guard let index = entries.index(forKey: sql) else { return nil }
        entries.values[index].lastUsed = clock
        return entries.values[index].statement
    }

    /// Caches `statement` for `sql`; answers the statement evicted to make room, if any.
    /// Eviction scans every entry, which is fine at the few hundred a connection holds and
    /// happens only once the working set outgrows the capacity.
    @discardableResult
    mutating func insert(_ statement: Statement, for sql: String) -> Statement? {
        clock &+= 1
        var evicted: Statement?
        if entries[sql] == nil, entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })
        {
            evicted = entries.removeValue(forKey: oldest.key)?.statement
        }
        entries[sql] = Entry(statement: statement, lastUsed: clock)
        return evicted
    }

    mutating func removeAll() { entries.removeAll() }
}
