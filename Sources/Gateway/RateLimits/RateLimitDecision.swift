import HTTP

/// What `CallerRateLimits` decided for one request, and the fields that tell the caller
/// (draft-ietf-httpapi-ratelimit-headers-10/-11, whose field syntax is the same).
public enum RateLimitDecision: Sendable, Equatable {
    /// The class is not limited (RATE_LIMIT_ENABLED=false, or its rate is `off`): no fields.
    case unlimited
    /// Go on: `remaining` units are left; the bucket is full again after `fullAfter`.
    case allowed(RateLimitPolicy, remaining: Int, fullAfter: Duration)
    /// Refuse with 429: one unit comes back after `retryAfter`.
    case limited(RateLimitPolicy, retryAfter: Duration)

    public var isLimited: Bool {
        if case .limited = self { return true }
        return false
    }

    /// The answer to give instead of serving the request; nil unless limited.
    public var refusal: RateLimited? {
        guard case .limited(let policy, let retryAfter) = self else { return nil }
        return RateLimited(policy: policy, retryAfter: retryAfter)
    }

    /// `RateLimit-Policy: "write";q=50;w=5` and `RateLimit: "write";r=49;t=1` on any response of a
    /// limited route. `t` is the time until the bucket is full again, or, when refused, until
    /// the next unit (then equal to Retry-After, which the draft says must not end before it).
    public func apply(to response: inout HTTPResponse) {
        let policy: RateLimitPolicy
        let remaining: Int
        let seconds: Int
        switch self {
        case .unlimited: return
        case .allowed(let allowed, let left, let fullAfter):
            (policy, remaining, seconds) = (allowed, left, Self.wholeSeconds(fullAfter, atLeast: 0))
        case .limited(let limited, let retryAfter):
            (policy, remaining, seconds) = (limited, 0, Self.wholeSeconds(retryAfter, atLeast: 1))
        }
        response.headers.replaceOrAdd(name: "RateLimit-Policy", value: policy.fieldValue)
        response.headers.replaceOrAdd(name: "RateLimit", value: "\"\(policy.name)\";r=\(remaining);t=\(seconds)")
    }

    /// Rounded up: a client that waits this long finds the unit there.
    static func wholeSeconds(_ duration: Duration, atLeast minimum: Int) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(minimum, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}

/// 429 `rate_limited`: the caller spent its budget for the class. Answered before anything is
/// stored or sent to Rokt, so the same request (same Idempotency-Key) can be sent again after
/// `Retry-After`. The detail names the class and never the caller's key or address.
public struct RateLimited: Error, HTTPResponseError, Sendable, Equatable {
    public let policy: RateLimitPolicy
    public let retryAfter: Duration

    /// Delta-seconds (RFC 9110 §10.2.3), rounded up and at least 1.
    public var retryAfterSeconds: Int { RateLimitDecision.wholeSeconds(retryAfter, atLeast: 1) }

    public var problem: Problem {
        Problem(
            status: 429, code: .rateLimited,
            detail: "Too many \(policy.name) requests from this caller (\(policy.burst) at once, then \(Self.format(policy.perSecond)) a second); "
                + "retry after \(retryAfterSeconds) s.")
    }

    public func response() -> HTTPResponse {
        var response = problem.response(headers: ["Retry-After": String(retryAfterSeconds)])
        RateLimitDecision.limited(policy, retryAfter: retryAfter).apply(to: &response)
        return response
    }

    /// `10`, `0.5`: a rate without a trailing `.0`.
    static func format(_ rate: Double) -> String {
        rate == rate.rounded() && abs(rate) < 1e15 ? String(Int(rate)) : String(rate)
    }
}
