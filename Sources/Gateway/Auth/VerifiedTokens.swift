import HTTP
import JSON
import JWT

/// What checking a token found, remembered so a dashboard sending one token with every request
/// pays for its signature once (an RS256 check costs about as much as the rest of a read; see
/// BENCHMARKS.md, "Authenticating callers"). Keyed by the token's SHA-256: the same bytes always
/// check the same way under the same keys and settings.
///
/// - An accepted token is remembered with its validity window: time is checked on every use, so
///   a hit never outlives `exp` nor precedes `nbf`.
/// - A refused token is remembered when no later check could accept it (a bad signature, expired,
///   the wrong audience…), so a tab polling with an expired token, or a flood of one forged token,
///   costs a hash. Refusals that time or a key fetch may lift (`nbf`, an unknown `kid`) are not.
/// - Entries made under another key set are ignored: a key taken out of the set stops its tokens.
/// - Accepted and refused tokens are bounded separately, so a flood of forged tokens never pushes
///   out the users; a full table starts over.
struct VerifiedTokens: Sendable {
    struct Accepted: Sendable {
        let principal: TokenPrincipal
        /// Milliseconds since the epoch; the leeway already applied.
        let validFrom: Int64
        let validUntil: Int64
        let keyGeneration: Int
    }

    struct Refused: Sendable {
        let reason: String
        let keyGeneration: Int
    }

    let capacity: Int
    private var accepted: [[UInt8]: Accepted] = [:]
    private var refused: [[UInt8]: Refused] = [:]

    init(capacity: Int = 10_000) { self.capacity = max(1, capacity) }

    var count: Int { accepted.count + refused.count }

    static func key(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }

    /// What is known of `key` at `nowMillis` under `keyGeneration`; nil: check the token.
    func lookup(_ key: [UInt8], nowMillis: Int64, keyGeneration: Int) -> TokenCheck? {
        if let entry = accepted[key], entry.keyGeneration == keyGeneration, entry.validFrom <= nowMillis, nowMillis < entry.validUntil {
            return .valid(entry.principal)
        }
        if let entry = refused[key], entry.keyGeneration == keyGeneration { return .invalid(reason: entry.reason) }
        return nil
    }

    mutating func accept(_ key: [UInt8], _ entry: Accepted) {
        if accepted[key] == nil && accepted.count >= capacity { accepted.removeAll(keepingCapacity: true) }
        accepted[key] = entry
    }

    /// Remembers `rejection` when it is final under these keys; others are checked again next time.
    mutating func refuse(_ key: [UInt8], _ rejection: TokenRejection, keyGeneration: Int) {
        switch rejection {
        case .unknownKey, .notYetValid, .issuedInTheFuture: return
        default: break
        }
        if refused[key] == nil && refused.count >= capacity { refused.removeAll(keepingCapacity: true) }
        refused[key] = Refused(reason: rejection.description, keyGeneration: keyGeneration)
    }

    /// The window in which `verified` stays valid (RFC 7519 §4.1.4–4.1.5, with the leeway), in ms.
    static func window(of verified: VerifiedToken, leeway: Duration) -> (from: Int64, until: Int64)? {
        guard let expiry = verified.claims["exp"]?.doubleValue, expiry.isFinite else { return nil }
        let leewayMs = Double(leeway.milliseconds)
        let from = verified.claims["nbf"]?.doubleValue.map { $0 * 1000 - leewayMs } ?? -Double(Int64.max)
        return (Int64(max(from, -9.0e18)), Int64(min(expiry * 1000 + leewayMs, 9.0e18)))
    }
}
