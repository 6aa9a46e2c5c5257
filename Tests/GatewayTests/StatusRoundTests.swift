import Testing
@testable import Gateway
@testable import Rokt

/// `StatusRound`'s decision table, driven event by event: no sockets, no store, no sleeping.
@Suite struct StatusRoundTests {
    typealias F = RoundFixtures
    static let pause = F.operation("p", .status(.paused))

    static func cascade(_ status: CascadeStatus, stuck: Int = 0) -> StatusCascade {
        StatusCascade(
            accountId: F.merchant, status: status,
            variants: (0..<stuck).map {
                VariantStatus(pageVariantId: "v\($0)", pageId: nil, name: nil, status: "active")
            })
    }

    static func round(now: Int64 = F.now, maxCascadeRetries: Int = 2) -> StatusRound {
        var configuration = EngineConfiguration()
        configuration.maxCascadeRetries = maxCascadeRetries
        let keys = F.Keys()
        return StatusRound(configuration: configuration, job: F.job("status"), now: { now }, newKey: keys.next)
    }

    /// A new round up to its first GET of `operation`.
    static func reading(_ operation: StoredOperation, maxCascadeRetries: Int = 2) -> StatusRound {
        var round = round(maxCascadeRetries: maxCascadeRetries)
        #expect(round.start().summary == "loadPendingWrite")
        #expect(round.next(.pendingWrite(nil)).summary == "loadQueued(1)")
        #expect(round.next(.queued([operation])).summary == "renewLease")
        #expect(round.next(.done).summary == "readStatus(\(operation.id))")
        return round
    }

    @Test func anEmptyQueueEndsTheRunIdle() {
        var round = Self.round()
        _ = round.start()
        _ = round.next(.pendingWrite(nil))
        #expect(round.next(.queued([])).summary == "end(idle)")
    }

    @Test func alreadyThereEndsUnchangedWithoutAPut() {
        var round = Self.reading(Self.pause)
        #expect(round.next(.status(.success(Self.cascade(.paused)))).summary == "finish(p:unchanged)")
        #expect(round.next(.done).summary == "loadPendingWrite")
    }

    @Test func aSwitchIsPutThenCheckedByReadingTheCascade() {
        var round = Self.reading(Self.pause)
        #expect(round.next(.status(.success(Self.cascade(.active)))).summary == "begin(PUT key-1 p)")
        #expect(round.next(.done).summary == "send(PUT key-1 p)")
        #expect(round.next(.written(.succeeded(F.response(200, "{}", headers: ["X-Request-Id": "req-1"])))).summary == "readStatus(p)")
        #expect(round.next(.status(.success(Self.cascade(.paused)))).summary == "finish(p:changed; delete)")
    }

    @Test func aMixedCascadeIsReissuedThenFailsWithTheEvidence() throws {
        var round = Self.reading(Self.pause, maxCascadeRetries: 1)
        _ = round.next(.status(.success(Self.cascade(.active))))
        _ = round.next(.done)
        #expect(round.next(.written(.succeeded(F.response(200, "{}", headers: ["X-Request-Id": "req-1"])))).summary == "readStatus(p)")
        #expect(round.next(.status(.success(Self.cascade(.mixed, stuck: 1)))).summary == "dropPendingWrite")
        #expect(round.next(.done).summary == "begin(PUT key-2 p)")
        #expect(round.next(.done).summary == "send(PUT key-2 p)")
        _ = round.next(.written(.succeeded(F.response(200, "{}", headers: ["X-Request-Id": "req-2"]))))
        let finish = round.next(.status(.success(Self.cascade(.mixed, stuck: 2))))
        #expect(finish.summary == "finish(p:cascade_incomplete; delete)")
        guard case .finish(let endings, _) = finish else { return }
        let problem = try #require(endings.first?.error)
        #expect(problem.status == 502)
        #expect(problem.upstream?.requestId == "req-2")
        #expect(problem.context?["idempotencyKeys"] == .array([.string("key-1"), .string("key-2")]))
        #expect(problem.context?["requestIds"] == .array([.string("req-1"), .string("req-2")]))
        #expect(problem.context?["stuckVariants"]?.arrayValue?.count == 2)
    }

    @Test func failuresAreRetriedWithBackoffOrEndTheOperation() {
        var read = Self.reading(Self.pause)
        #expect(read.next(.status(.failure(F.rokt(503, retryAfter: .seconds(4))))).summary == "end(backoff 3 ≥ 4.0 seconds)")
        var refused = Self.reading(Self.pause)
        #expect(refused.next(.status(.failure(F.rokt(403)))).summary == "finish(p:merchant_not_managed)")

        for (result, expected) in [
            (UpstreamWriter.Result.failed(F.timeout), "end(backoff 3)"), (.stillPending, "end(retry 5.0 seconds)"),
            (.failed(F.rokt(400)), "finish(p:upstream_rejected; delete)"),
        ] {
            var round = Self.reading(Self.pause)
            _ = round.next(.status(.success(Self.cascade(.active))))
            _ = round.next(.done)
            #expect(round.next(.written(result)).summary == expected)
        }

        var check = Self.reading(Self.pause)
        _ = check.next(.status(.success(Self.cascade(.active))))
        _ = check.next(.done)
        _ = check.next(.written(.succeeded(nil)))
        #expect(check.next(.status(.failure(F.timeout))).summary == "end(backoff 3)")  // the check is retried via the pending write
    }

    static func plan(attempt: Int = 1) -> [UInt8] {
        JSON.encode(StatusReconciler.Plan(desired: .paused, attempt: attempt, keys: ["old-key"], requestIds: []))
    }

    @Test func aPendingWriteIsReSentUnlessTooOldOrItsOperationEnded() {
        let pending = F.pendingWrite(["p"], resource: "status", plan: Self.plan())
        var resumed = Self.round()
        _ = resumed.start()
        #expect(resumed.next(.pendingWrite(pending)).summary == "renewLease")
        #expect(resumed.next(.done).summary == "loadOperation(p)")
        #expect(resumed.next(.operation(Self.pause)).summary == "send(PUT old-key p)")

        var old = Self.round(now: F.now + EngineConfiguration().keyMaxAge.milliseconds + 1)
        _ = old.start()
        _ = old.next(.pendingWrite(pending))
        _ = old.next(.done)
        #expect(old.next(.operation(Self.pause)).summary == "abandon(old-key)")
        #expect(old.next(.done).summary == "loadPendingWrite")

        var ended = Self.round()
        _ = ended.start()
        _ = ended.next(.pendingWrite(pending))
        _ = ended.next(.done)
        #expect(ended.next(.operation(nil)).summary == "dropPendingWrite")
    }

    @Test func aStoreFailureEndsTheRunWithABackoff() {
        var round = Self.reading(Self.pause)
        #expect(round.next(.failed).summary == "end(backoff 3)")
    }
}
