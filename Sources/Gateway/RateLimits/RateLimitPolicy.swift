import HTTP

/// Which budget a request spends (README.md, "Rate limits"). The coordinator of a request picks
/// it with `of(method:template:publishable:)` once the caller is known.
public enum RateLimitClass: String, Sendable, CaseIterable {
    /// GET and HEAD, and placements asked with a secret key or a user's token.
    case read
    /// Everything else a secret key or a user may do: writes, dry runs included (Rokt validates
    /// them), webhook endpoints and key administration.
    case write
    /// `POST /v1/placements/any` with a publishable key: partitioned by key and client address,
    /// because every shopper's browser holds the same key.
    case placements

    static let placementsTemplate = "/v1/placements/any"

    /// The class of a request to the route `template` (the router's, nil when unmatched).
    public static func of(method: HTTPMethod, template: String?, publishable: Bool) -> RateLimitClass {
        if publishable { return .placements }
        if method == .get || method == .head || (method == .post && template == placementsTemplate) { return .read }
        return .write
    }
}

/// One class's budget as a token bucket: `perSecond` units come back each second, at most
/// `burst` are held. Implemented as GCRA (`RateLimitTable`): the same admissions as a token
/// bucket with that rate and capacity, with one number stored per partition.
public struct RateLimitPolicy: Sendable, Equatable {
    public let limitClass: RateLimitClass
    public let perSecond: Double
    public let burst: Int

    public init(_ limitClass: RateLimitClass, perSecond: Double, burst: Int) {
        self.limitClass = limitClass
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The policy's name in the RateLimit fields: the class.
    public var name: String { limitClass.rawValue }

    /// GCRA's emission interval T: the time one unit takes to come back.
    var emissionInterval: Int64 { max(1, Int64((1e9 / perSecond).rounded())) }
    /// GCRA's tolerance τ = burst × T: how far ahead of now a partition's schedule may run.
    var tolerance: Int64 { emissionInterval * Int64(burst) }

    /// The time an empty bucket takes to fill, in whole seconds (rounded up, at least 1): the
    /// `w` of RateLimit-Policy.
    public var windowSeconds: Int { max(1, Int((Double(burst) / perSecond).rounded(.up))) }

    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-10/-11 §3): `"write";q=50;w=5`.
    /// `q` is the burst and `w` the time the bucket takes to refill from empty, so a client that
    /// spends at most q units in any w seconds is never limited; spending faster drains the burst.
    public var fieldValue: String { "\"\(name)\";q=\(burst);w=\(windowSeconds)" }
}

/// The partition strings `CallerRateLimits` is called with: one budget per string and class.
/// Each kind of caller has its own prefix, so a key id and a user's `sub` never share a budget
/// (a token's user counts by its `Caller.id`, `user:…`).
public enum RateLimitPartition {
    /// An API key, by its id (never its secret).
    public static func apiKey(id: String) -> String { "key:" + id }

    /// A publishable key and the shopper's address. An IPv6 address counts by its /64, the block
    /// one household or host is usually given (RFC 6177), so cycling addresses inside it does
    /// not buy a fresh budget; IPv4 counts per address.
    public static func publishable(keyId: String, clientAddress: String?) -> String {
        let prefix = "pk:" + keyId + "|"
        guard let clientAddress else { return prefix + "-" }
        guard let address = IPAddress(clientAddress) else { return prefix + clientAddress }
        guard address.bytes.count == 16 else { return prefix + address.description }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(address.bytes[$0]) << 8 | UInt16(address.bytes[$0 + 1]), radix: 16) }
        return prefix + groups.joined(separator: ":") + "::/64"
    }
}
