import HTTP
import JSON
import Synchronization
import Testing
@testable import Gateway

/// A monotonic clock tests move by hand.
final class ManualMonotonicClock: Sendable {
    private let start = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)
    func now() -> ContinuousClock.Instant { start + offset.withLock { $0 } }
    func advance(by duration: Duration) { offset.withLock { $0 += duration } }
}

@Suite struct CallerRateLimitsTests {
    let clock = ManualMonotonicClock()

    func limits(_ change: (inout RateLimitConfiguration) -> Void = { _ in }, stripes: Int = 16) -> CallerRateLimits {
        var configuration = RateLimitConfiguration()
        change(&configuration)
        let clock = clock
        return CallerRateLimits(configuration: configuration, stripeCount: stripes, now: { clock.now() })
    }

    func allowedCount(_ limits: CallerRateLimits, _ partition: String, _ limitClass: RateLimitClass, tries: Int) -> Int {
        (0..<tries).filter { _ in !limits.admit(partition: partition, class: limitClass).isLimited }.count
    }

    @Test func eachCallerAndClassHasItsOwnBudget() {
        let limits = limits()
        let alice = RateLimitPartition.apiKey(id: "key_alice")
        #expect(allowedCount(limits, alice, .write, tries: 60) == 50)
        #expect(limits.admit(partition: alice, class: .write).isLimited)
        #expect(!limits.admit(partition: RateLimitPartition.apiKey(id: "key_bob"), class: .write).isLimited)
        #expect(allowedCount(limits, alice, .read, tries: 100) == 100)
        clock.advance(by: .milliseconds(100))
        #expect(allowedCount(limits, alice, .write, tries: 5) == 1)
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        let limits = limits()
        #expect(limits.admit(partition: "p", class: .write) == .allowed(RateLimitPolicy(.write, perSecond: 10, burst: 50), remaining: 49, fullAfter: .milliseconds(100)))
        #expect(limits.admit(partition: "p", class: .read) == .allowed(RateLimitPolicy(.read, perSecond: 50, burst: 100), remaining: 99, fullAfter: .milliseconds(20)))
        #expect(
            limits.admit(partition: "p", class: .placements)
                == .allowed(RateLimitPolicy(.placements, perSecond: 50, burst: 100), remaining: 99, fullAfter: .milliseconds(20)))
    }

    @Test func peekChargesNothing() {
        let limits = limits()
        for _ in 0..<200 { #expect(!limits.peek(partition: "p", class: .write).isLimited) }
        #expect(allowedCount(limits, "p", .write, tries: 60) == 50)
        #expect(limits.peek(partition: "p", class: .write) == .limited(RateLimitPolicy(.write, perSecond: 10, burst: 50), retryAfter: .milliseconds(100)))
    }

    @Test func aClassTurnedOffOrTheWholeLimiterDisabledLimitsNothingAndAddsNoFields() {
        let off = limits { $0.write = nil }
        #expect(allowedCount(off, "p", .write, tries: 500) == 500)
        #expect(off.admit(partition: "p", class: .write) == .unlimited)
        #expect(off.admit(partition: "p", class: .read) != .unlimited)
        let disabled = limits { $0.enabled = false }
        #expect(RateLimitClass.allCases.allSatisfy { disabled.admit(partition: "p", class: $0) == .unlimited })
        var response = HTTPResponse(status: .ok)
        RateLimitDecision.unlimited.apply(to: &response)
        #expect(response.headers.isEmpty)
        #expect(RateLimitDecision.unlimited.refusal == nil)
    }

    /// RATE_LIMIT_MAX_PARTITIONS holds across the stripes together, whatever the flood.
    @Test func distinctPartitionsNeverExceedTheBound() {
        let limits = limits({ $0.maxPartitions = 100 }, stripes: 16)
        for n in 0..<5_000 { _ = limits.admit(partition: RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "198.51.100.\(n % 256)x\(n)"), class: .placements) }
        let statistics = limits.statistics
        #expect(statistics.partitions <= 100 && statistics.partitions >= 50)
        #expect(statistics.evictions >= 4_900)
    }

    @Test func statisticsCountRefusalsPerClass() {
        let limits = limits()
        _ = allowedCount(limits, "p", .write, tries: 53)
        _ = allowedCount(limits, "p", .placements, tries: 101)
        #expect(limits.statistics.limited == [.write: 3, .placements: 1])
        #expect(limits.statistics.partitions == 2)
    }

    @Test func theClassOfARequest() {
        #expect(RateLimitClass.of(method: .get, template: "/v1/merchants", publishable: false) == .read)
        #expect(RateLimitClass.of(method: .head, template: nil, publishable: false) == .read)
        #expect(RateLimitClass.of(method: .post, template: "/v1/placements/any", publishable: false) == .read)
        #expect(RateLimitClass.of(method: .post, template: "/v1/placements/any", publishable: true) == .placements)
        #expect(RateLimitClass.of(method: .post, template: "/v1/merchants/{accountId}/pause", publishable: false) == .write)
        #expect(RateLimitClass.of(method: .delete, template: "/v1/webhook-endpoints/{id}", publishable: false) == .write)
    }

    @Test func partitionsOfKindsNeverCollideAndIPv6CountsPerSlash64() {
        func user(_ issuer: String, _ subject: String) -> String {
            Caller(.user(TokenPrincipal(issuer: issuer, subject: subject, tokenId: nil, scopes: [], merchants: nil))).rateLimitPartition
        }
        #expect(RateLimitPartition.apiKey(id: "x") != user("", "x"))
        #expect(user("a", "bc") != user("ab", "c"))
        #expect(user("a", "b") == user("a", "b"))
        let one = RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "2001:db8:1:2:aaaa::1")
        #expect(one == "pk:pk_1|2001:db8:1:2::/64")
        #expect(one == RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "2001:0db8:0001:0002:ffff:ffff:ffff:ffff"))
        #expect(one != RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "2001:db8:1:3::1"))
        #expect(one != RateLimitPartition.publishable(keyId: "pk_2", clientAddress: "2001:db8:1:2::1"))
        #expect(RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "::ffff:192.0.2.1") == "pk:pk_1|192.0.2.1")
        #expect(
            RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "192.0.2.1")
                != RateLimitPartition.publishable(keyId: "pk_1", clientAddress: "192.0.2.2"))
        #expect(RateLimitPartition.publishable(keyId: "pk_1", clientAddress: nil) == "pk:pk_1|-")
    }
}

@Suite struct RateLimitFieldsTests {
    let write = RateLimitPolicy(.write, perSecond: 10, burst: 50)

    @Test func allowedResponsesCarryThePolicyAndTheRemainingUnits() {
        var response = HTTPResponse(status: .ok)
        RateLimitDecision.allowed(write, remaining: 49, fullAfter: .milliseconds(100)).apply(to: &response)
        #expect(response.headers["RateLimit-Policy"] == #""write";q=50;w=5"#)
        #expect(response.headers["RateLimit"] == #""write";r=49;t=1"#)
        // Applied twice (a replayed answer), the fields are replaced, not repeated.
        RateLimitDecision.allowed(write, remaining: 10, fullAfter: .milliseconds(4000)).apply(to: &response)
        #expect(response.headers.values("RateLimit") == [#""write";r=10;t=4"#])
        var full = HTTPResponse(status: .ok)
        RateLimitDecision.allowed(write, remaining: 50, fullAfter: .zero).apply(to: &full)
        #expect(full.headers["RateLimit"] == #""write";r=50;t=0"#)
    }

    @Test(arguments: [
        (10.0, 50, 5), (50.0, 100, 2), (0.5, 3, 6), (3.0, 10, 4), (1000.0, 1, 1),
    ])
    func theWindowIsTheTimeToRefillRoundedUp(perSecond: Double, burst: Int, window: Int) {
        #expect(RateLimitPolicy(.read, perSecond: perSecond, burst: burst).fieldValue == "\"read\";q=\(burst);w=\(window)")
    }

    @Test func aRefusalIs429RateLimitedWithRetryAfterAndBothFields() throws {
        let refusal = try #require(RateLimitDecision.limited(write, retryAfter: .milliseconds(1200)).refusal)
        let response = refusal.response()
        #expect(response.status.code == 429)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.headers["Retry-After"] == "2")
        #expect(response.headers["RateLimit-Policy"] == #""write";q=50;w=5"#)
        #expect(response.headers["RateLimit"] == #""write";r=0;t=2"#)
        guard case .bytes(let body) = response.body else { Issue.record("no body"); return }
        let problem = try JSONValue.parse(body)
        #expect(problem["code"] == .string("rate_limited"))
        #expect(problem["status"]?.int == 429)
        #expect(problem["type"] == .string("urn:rokt-gateway:problem:rate_limited"))
        #expect(problem["detail"]?.stringValue == "Too many write requests from this caller (50 at once, then 10 a second); retry after 2 s.")
    }

    @Test(arguments: [(Duration.nanoseconds(1), "1"), (.seconds(2), "2"), (.milliseconds(2001), "3"), (.zero, "1")])
    func retryAfterIsWholeSecondsRoundedUpAndAtLeastOne(wait: Duration, header: String) {
        #expect(RateLimited(policy: write, retryAfter: wait).response().headers["Retry-After"] == header)
    }

    @Test func aFractionalRateReadsAsItWasConfigured() {
        let slow = RateLimited(policy: RateLimitPolicy(.write, perSecond: 0.5, burst: 2), retryAfter: .seconds(2))
        #expect(slow.problem.detail.contains("then 0.5 a second"))
    }
}
