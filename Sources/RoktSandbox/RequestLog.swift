import FoundationEssentials

/// One request the sandbox received (admin requests excluded), as it arrived, and what it got.
public struct SandboxLoggedRequest: Sendable, Equatable, Encodable {
    public var method: String
    /// The path as sent, without the query.
    public var path: String
    /// The decoded query parameters (first value of each name).
    public var query: [String: String]
    /// Header fields in arrival order.
    public var headers: [Header]
    public var body: String
    /// The status sent; nil when the connection was closed without a response (drop fault).
    public var status: Int?
    /// The X-Request-Id of the response (also for a dropped request, though nobody saw it).
    public var requestId: String
    /// True when the response was replayed from the idempotency cache.
    public var replayed: Bool
    /// The fault that changed this request's fate, if any: `status`, `drop`, `latency`, `pendingOperation`.
    public var fault: String?
    public var receivedAt: Date

    public struct Header: Sendable, Equatable, Encodable {
        public var name: String
        public var value: String
    }

    /// The first value of header `name`, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.asciiCaseInsensitiveEquals(name) }?.value
    }
}

/// The newest `limit` logged requests, oldest first: a ring, so a full log costs O(1) per
/// request however long it is.
struct RequestLog: Sendable {
    let limit: Int
    private var ring: [SandboxLoggedRequest] = []
    /// Where the oldest entry is once the ring is full.
    private var head = 0

    init(limit: Int) { self.limit = max(0, limit) }

    var entries: [SandboxLoggedRequest] {
        guard ring.count == limit, head > 0 else { return ring }
        return Array(ring[head...] + ring[..<head])
    }

    mutating func append(_ entry: SandboxLoggedRequest) {
        guard limit > 0 else { return }
        if ring.count < limit {
            ring.append(entry)
        } else {
            ring[head] = entry
            head = (head + 1) % limit
        }
    }

    mutating func removeAll() {
        ring.removeAll()
        head = 0
    }
}
