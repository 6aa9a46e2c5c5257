import HTTP
import JSON
import JWT

/// Tokens whose signature already verified, so a dashboard sending one token with every request
/// pays for the signature once (an RS256 check costs about as much as the rest of a read; see
/// BENCHMARKS.md, "Authenticating callers"). Keyed by the token's SHA-256: the same bytes always
/// verify the same way under the same keys. Time is still checked on every use (a hit never
/// outlives `exp` nor precedes `nbf`), and an entry made under another key set is ignored.
/// Bounded: a full cache starts over. Refused tokens are never kept.
struct VerifiedTokens: Sendable {
    struct Entry: Sendable {
        let principal: TokenPrincipal
        /// Milliseconds since the epoch; the leeway already applied.
        let validFrom: Int64
        let validUntil: Int64
        let keyGeneration: Int
    }

    let capacity: Int
    private var entries: [[UInt8]: Entry] = [:]

    init(capacity: Int = 10_000) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    static func key(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }

    /// The entry for `key` when it is valid at `nowMillis` under `keyGeneration`.
    func lookup(_ key: [UInt8], nowMillis: Int64, keyGeneration: Int) -> Entry? {
        guard let entry = entries[key], entry.keyGeneration == keyGeneration, entry.validFrom <= nowMillis, nowMillis < entry.validUntil
        else { return nil }
        return entry
    }

    mutating func insert(_ key: [UInt8], _ entry: Entry) {
        if entries[key] == nil && entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = entry
    }

    /// The window in which `verified` stays valid (RFC 7519 §4.1.4–4.1.5, with the leeway), in ms.
    static func window(of verified: VerifiedToken, leeway: Duration) -> (from: Int64, until: Int64)? {
        guard let expiry = verified.claims["exp"]?.doubleValue, expiry.isFinite else { return nil }
        let leewayMs = Double(leeway.milliseconds)
        let from = verified.claims["nbf"]?.doubleValue.map { $0 * 1000 - leewayMs } ?? -Double(Int64.max)
        return (Int64(max(from, -9.0e18)), Int64(min(expiry * 1000 + leewayMs, 9.0e18)))
    }
}
