import JSON
@testable import RoktSandbox
import Testing

@Suite struct RequestMatcherTests {
    @Test func starMatchesExactlyOneNonEmptySegment() {
        let matcher = RequestMatcher(method: "put", path: "/v1/partnership/accounts/*/status")
        #expect(matcher.matches(method: "PUT", path: "/v1/partnership/accounts/demo-merchant-1/status"))
        #expect(!matcher.matches(method: "GET", path: "/v1/partnership/accounts/demo-merchant-1/status"))
        #expect(!matcher.matches(method: "PUT", path: "/v1/partnership/accounts/a/b/status"))
        #expect(!matcher.matches(method: "PUT", path: "/v1/partnership/accounts//status"))
        #expect(!matcher.matches(method: "PUT", path: "/v1/partnership/accounts/demo-merchant-1/status/extra"))
    }

    @Test func finalDoubleStarMatchesTheRest() {
        let matcher = RequestMatcher(path: "/v1/partnership/**")
        #expect(matcher.matches(method: "GET", path: "/v1/partnership/accounts/x/status"))
        #expect(matcher.matches(method: "POST", path: "/v1/partnership/"))
        #expect(!matcher.matches(method: "POST", path: "/v1/Placements/any"))
    }

    @Test func absentMethodAndPathMatchEverything() {
        #expect(RequestMatcher().matches(method: "DELETE", path: "/anything/at/all"))
        #expect(RequestMatcher(method: "*", path: "*").matches(method: "GET", path: "/x"))
    }
}

@Suite struct FaultPlanTests {
    @Test func statusFaultStrikesItsCountThenVanishes() {
        var plan = FaultPlan(randomSeed: 1)
        _ = plan.add(.status(StatusFault(match: RequestMatcher(path: "/a"), status: 503, retryAfterSeconds: 2, count: 2)))
        #expect(plan.admit(method: "GET", path: "/b") == .unaffected)
        #expect(plan.admit(method: "GET", path: "/a").before == .answer(status: 503, retryAfterSeconds: 2))
        #expect(plan.admit(method: "GET", path: "/a").before != nil)
        #expect(plan.admit(method: "GET", path: "/a").before == nil)
        #expect(plan.isEmpty)
    }

    @Test func atMostOneStatusOrDropPerRequestInInsertionOrder() {
        var plan = FaultPlan(randomSeed: 1)
        _ = plan.add(.drop(DropFault(count: 1, timing: .afterApplying)))
        _ = plan.add(.status(StatusFault(status: 500, count: 1)))
        let first = plan.admit(method: "PUT", path: "/x")
        #expect(first.after == .drop && first.before == nil)
        #expect(plan.admit(method: "PUT", path: "/x").before == .answer(status: 500, retryAfterSeconds: nil))
    }

    @Test func latencyFaultsAddUpAndUnlimitedOnesStay() {
        var plan = FaultPlan(randomSeed: 1)
        _ = plan.add(.latency(LatencyFault(milliseconds: 100)))
        _ = plan.add(.latency(LatencyFault(milliseconds: 50, count: 1)))
        #expect(plan.admit(method: "GET", path: "/x").delayMilliseconds == 150)
        #expect(plan.admit(method: "GET", path: "/x").delayMilliseconds == 100)
        #expect(plan.active.count == 1)
    }

    @Test func probabilityIsReproducibleFromTheSeedAndRoughlyHonoured() {
        func strikes(seed: UInt64) -> [Bool] {
            var plan = FaultPlan(randomSeed: seed)
            _ = plan.add(.status(StatusFault(status: 503, count: nil, probability: 0.25)))
            return (0..<2000).map { _ in plan.admit(method: "GET", path: "/x").before != nil }
        }
        let run = strikes(seed: 7)
        #expect(run == strikes(seed: 7))
        let rate = Double(run.filter { $0 }.count) / 2000
        #expect(rate > 0.2 && rate < 0.3)
    }

    @Test func stuckVariantsAreSpentPerCascadeOfTheirAccountOnly() {
        var plan = FaultPlan(randomSeed: 1)
        _ = plan.add(.stuckVariants(StuckVariantsFault(accountId: "a", variantIds: ["v1"], cascades: 2)))
        #expect(plan.takeStuckVariants(accountId: "b").isEmpty)
        #expect(plan.takeStuckVariants(accountId: "a") == ["v1"])
        #expect(plan.takeStuckVariants(accountId: "a") == ["v1"])
        #expect(plan.takeStuckVariants(accountId: "a").isEmpty)
    }

    @Test func adminJSONShapeRoundTripsAndNamesBadMembers() throws {
        let json = try JSONValue.parseBody(Array(#"{"kind":"status","method":"PUT","path":"/v1/*","status":503,"retryAfter":1,"count":null,"timing":"afterApplying"}"#.utf8))!
        let fault = try SandboxFault(json: json)
        #expect(
            fault
                == .status(
                    StatusFault(
                        match: RequestMatcher(method: "PUT", path: "/v1/*"), status: 503, retryAfterSeconds: 1,
                        count: nil, timing: .afterApplying)))
        #expect(fault.json["kind"] == .string("status"))
        for (body, member) in [
            (#"{"kind":"status","status":200}"#, "status"), (#"{"kind":"teleport"}"#, "kind"),
            (#"{"kind":"drop","count":0}"#, "count"), (#"{"kind":"latency"}"#, "milliseconds"),
            (#"{"kind":"drop","colour":"red"}"#, "colour"), (#"{"kind":"stuckVariants","accountId":"a"}"#, "variantIds"),
            (#"{"kind":"pendingOperations","polls":2,"path":"v1"}"#, "path"),
        ] {
            do {
                _ = try SandboxFault(json: try JSONValue.parseBody(Array(body.utf8))!)
                Issue.record("accepted \(body)")
            } catch {
                #expect(error.message.contains(member), "\(error.message)")
            }
        }
    }
}

@Suite struct IdempotencyCacheTests {
    let reply = SandboxReply(status: 200, body: Array("cached".utf8))
    let t0 = ManualSandboxClock().now

    @Test func replaysWithinTwentyFourHoursAndForgetsAtTheBoundary() {
        var cache = IdempotencyCache()
        cache.store(reply, credential: "t", key: "k", now: t0)
        #expect(cache.lookup(credential: "t", key: "k", now: t0.addingTimeInterval(86_399))?.body == reply.body)
        #expect(cache.lookup(credential: "t", key: "k", now: t0.addingTimeInterval(86_400)) == nil)
        #expect(cache.count == 0)
    }

    @Test func keysAreScopedByCredential() {
        var cache = IdempotencyCache()
        cache.store(reply, credential: "t1", key: "k", now: t0)
        #expect(cache.lookup(credential: "t2", key: "k", now: t0) == nil)
    }

    @Test func beyondItsLimitTheOldestLiveEntriesAreForgottenFirst() {
        var cache = IdempotencyCache(limit: 8)
        for i in 0..<20 { cache.store(reply, credential: "t", key: "k\(i)", now: t0.addingTimeInterval(Double(i))) }
        let now = t0.addingTimeInterval(20)
        #expect(cache.count <= 8)
        #expect(cache.lookup(credential: "t", key: "k19", now: now) != nil)
        #expect(cache.lookup(credential: "t", key: "k0", now: now) == nil)
    }

    @Test func expiredEntriesAreSweptSoMemoryStaysBounded() {
        var cache = IdempotencyCache()
        for i in 0..<IdempotencyCache.sweepInterval - 1 { cache.store(reply, credential: "t", key: "old\(i)", now: t0) }
        let later = t0.addingTimeInterval(IdempotencyCache.window + 1)
        cache.store(reply, credential: "t", key: "new", now: later)
        #expect(cache.count == 1)
    }
}
