import Testing
@testable import Gateway
@testable import Rokt

/// Polling and retry timing decided in pure code: intervals, the budget, and the jitter drawn from an injected source.
@Suite struct PollScheduleTests {
    typealias F = RoundFixtures

    @Test func intervalsDoubleUpToTheCapAndStopAtTheBudget() {
        var configuration = EngineConfiguration()
        configuration.pollInterval = .milliseconds(100)
        configuration.maxPollInterval = .milliseconds(500)
        configuration.pollBudget = .seconds(2)
        var schedule = PollSchedule(configuration)
        var elapsed = Duration.zero
        var delays: [Duration] = []
        while let delay = schedule.next(elapsed: elapsed) {
            delays.append(delay)
            elapsed += delay + .milliseconds(10)  // each poll itself takes 10 ms
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500)])
        #expect(elapsed == .milliseconds(1750))  // another 500 ms would pass the 2 s budget
    }

    @Test func aWriteAnswered202WithAnOperationIdIsFollowedNotTakenAsDone() {
        guard case .follow(let id) = UpstreamWriter.verdict(of: .success(F.response(202, "{}", headers: ["X-Operation-Id": "op-7"]))) else {
            Issue.record("202 with an operation id must be polled")
            return
        }
        #expect(id == "op-7")
        guard case .answered(.succeeded) = UpstreamWriter.verdict(of: .success(F.response(202, "{}"))) else {
            Issue.record("202 without an operation id is an answer")
            return
        }
        guard case .answered(.failed(let error)) = UpstreamWriter.verdict(of: .failure(F.rokt(409))) else {
            Issue.record("409 is an answer")
            return
        }
        #expect(error.status == 409)
    }

    @Test func aPollEndsTheWriteOnlyWhenRoktsOperationFinishedOrRefusedForGood() {
        func verdict(_ polled: Result<RoktOperation, RoktError>) -> String {
            switch UpstreamWriter.verdict(of: polled, operationId: "op-1", requestId: "req-p") {
            case nil: "poll again"
            case .succeeded?: "succeeded"
            case .failed(let error)?: "failed \(error.status ?? 0) \(error.code ?? "") \(error.message)"
            case .stillPending?: "still pending"
            }
        }
        #expect(verdict(.success(RoktOperation(operationId: "op-1", status: "running"))) == "poll again")
        #expect(verdict(.success(RoktOperation(operationId: "op-1", status: "succeeded"))) == "succeeded")
        #expect(
            verdict(.success(RoktOperation(operationId: "op-1", status: "failed", error: .object(["message": .string("bad page")]))))
                == "failed 422 operation_failed bad page")
        #expect(verdict(.success(RoktOperation(operationId: "op-1", status: "failed"))) == "failed 422 operation_failed Rokt operation op-1 ended failed")
        #expect(verdict(.failure(F.rokt(503))) == "poll again")  // a failed poll is retried like any read
        #expect(verdict(.failure(F.rokt(404))) == "failed 404  Rokt says 404")
    }

    /// A source that always returns the same bits: the jitter it gives is fixed (1 draws the bottom
    /// of the range, `.max` the top; 0 would be rejected forever by unbiased sampling).
    struct FixedRandom: RandomNumberGenerator {
        let value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func retryDelaysDrawTheirJitterFromTheInjectedSourceAndHonourRetryAfter() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(300))
        var low = FixedRandom(value: 1)
        var high = FixedRandom(value: .max)
        #expect(RetryDelay.backoff(attempt: 3, retryAfter: nil).duration(under: policy, using: &low) == .zero)
        #expect(RetryDelay.backoff(attempt: 3, retryAfter: nil).duration(under: policy, using: &high) == .seconds(4))
        #expect(RetryDelay.backoff(attempt: 3, retryAfter: .seconds(10)).duration(under: policy, using: &high) == .seconds(10))
        #expect(RetryDelay.backoff(attempt: 20, retryAfter: nil).duration(under: policy, using: &high) == .seconds(300))
        #expect(RetryDelay.exactly(.seconds(5)).duration(under: policy, using: &low) == .seconds(5))

        var injected = InjectedRandom(source: { .max })
        #expect(RetryDelay.backoff(attempt: 1, retryAfter: nil).duration(under: policy, using: &injected) == .seconds(1))
    }

    @Test func resourcesParseFromTheirStoredNames() {
        #expect(JobResource("controls") == .controls)
        #expect(JobResource("status") == .status)
        #expect(JobResource("write:theme:layout-1") == .singleWrite(lane: "theme:layout-1"))
        #expect(JobResource("elsewhere") == nil)
        for intent in [
            OperationIntent.controls(.addDomain("a.example.com")), .status(.paused),
            .single(SingleWrite(kind: .theme, lane: "theme:l1", method: "PATCH", path: "/t", body: nil)),
        ] {
            #expect(JobResource(intent.resource)?.stored == intent.resource)
        }
    }
}
