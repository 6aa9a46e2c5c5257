import Testing
@testable import Gateway
import JSON
@testable import Rokt

/// `ControlsRound`'s decision table, driven event by event: no sockets, no store, no sleeping.
@Suite struct ControlsRoundTests {
    typealias F = RoundFixtures
    static let state = MarketplaceControls(name: "Acme", contentHash: "h1")
    static let a = F.operation("a", .controls(.addVertical(VerticalPair(1500, 1610))))
    static let b = F.operation("b", .controls(.addDomain("b.example.com")))
    /// The state with `a`'s vertical already blocked: `a` changes nothing.
    static let blocked = MarketplaceControls(name: "Acme", blockedVerticals: [BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610)])
    static let c = F.operation("c", .controls(.addDomain("c.example.com")))

    static func configuration(_ change: (inout EngineConfiguration) -> Void = { _ in }) -> EngineConfiguration {
        var configuration = EngineConfiguration()
        change(&configuration)
        return configuration
    }

    static func round(_ configuration: EngineConfiguration = configuration(), now: Int64 = F.now) -> ControlsRound {
        let keys = F.Keys()
        return ControlsRound(configuration: configuration, job: F.job("controls"), now: { now }, newKey: keys.next)
    }

    /// Drives a new round to its first read of the queued `operations`.
    static func readingQueued(_ operations: [StoredOperation], _ configuration: EngineConfiguration = configuration()) -> ControlsRound {
        var round = round(configuration)
        #expect(round.start().summary == "loadPendingWrite")
        #expect(round.next(.pendingWrite(nil)).summary == "loadQueued(1000)")
        #expect(round.next(.queued(operations)).summary == "roundStarted")
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(\(operations.map(\.id).joined(separator: ",")))")
        return round
    }

    static func sentWrite(_ action: ControlsRound.Action) -> PendingWrite? {
        if case .begin(let write) = action { return write }
        return nil
    }

    @Test func anEmptyQueueEndsTheRunIdle() {
        var round = Self.round()
        #expect(round.start().summary == "loadPendingWrite")
        #expect(round.next(.pendingWrite(nil)).summary == "loadQueued(1000)")
        #expect(round.next(.queued([])).summary == "end(idle)")
    }

    @Test func queuedChangesAreMergedIntoOnePutCarryingTheHashRead() throws {
        var round = Self.readingQueued([Self.a, Self.b])
        let begin = round.next(.controls(.success(Self.state)))
        #expect(begin.summary == "begin(PUT key-1 a,b)")
        let write = try #require(Self.sentWrite(begin))
        #expect(write.createdAt == F.now)
        let body = try MarketplaceControls(json: JSONValue.parse(write.body ?? []))
        #expect(body.contentHash == "h1")
        #expect(body.blockedVerticals.map(\.pair) == [VerticalPair(1500, 1610)])
        #expect(body.domains.map(\.domain) == ["b.example.com"])
        #expect(round.next(.done).summary == "send(PUT key-1 a,b)")
        let answer = F.response(200, #"{"name":"Acme","contentHash":"h2","blockedVerticals":[],"domains":[]}"#)
        let finish = round.next(.written(.succeeded(answer)))
        #expect(finish.summary == "finish(a:changed,b:changed; delete)")
        if case .finish(let endings, _) = finish { #expect(endings[0].result?.contains("h2") == true) }  // Rokt's answer, not our plan
        #expect(round.next(.done).summary == "roundEnded")
        #expect(round.next(.done).summary == "loadPendingWrite")
    }

    @Test func aRoundAnsweredSlotWantedEndsTheRunIdleItsJobLeftDue() {
        var round = Self.readingQueued([Self.a])
        #expect(round.next(.controls(.success(Self.blocked))).summary == "finish(a:unchanged)")
        #expect(round.next(.done).summary == "roundEnded")
        #expect(round.next(.slotWanted).summary == "end(idle)")
    }

    @Test func slotWantedKeepsTheEndARoundAlreadyChose() {
        var round = Self.readingQueued([Self.a])
        #expect(round.next(.controls(.failure(F.rokt(503, retryAfter: .seconds(2))))).summary == "roundEnded")
        let ended = round.next(.slotWanted).summary
        #expect(ended.hasPrefix("end(") && ended != "end(idle)")
    }

    @Test func aWriteAnsweredWithoutABodyIsReadBack() {
        var round = Self.readingQueued([Self.a])
        _ = round.next(.controls(.success(Self.state)))
        _ = round.next(.done)
        #expect(round.next(.written(.succeeded(nil))).summary == "readControls(a)")
        #expect(round.next(.controls(.failure(F.timeout))).summary == "finish(a:changed; delete)")  // the plan's state stands in
    }

    @Test func changesThatChangeNothingEndWithoutAPut() {
        var round = Self.readingQueued([F.operation("x", .controls(.removeDomain("absent.example.com")))])
        #expect(round.next(.controls(.success(Self.state))).summary == "finish(x:unchanged)")
        #expect(round.next(.done).summary == "roundEnded")
    }

    @Test func aStaleHashFailsAloneAndTheRestIsWritten() {
        let stale = ControlsReplacement(name: nil, verticals: [], domains: [], expectedHash: "h0", viaIfMatch: true)
        let replace = F.operation("r", .controls(.replace(stale)))
        var round = Self.readingQueued([replace, Self.a])
        let finish = round.next(.controls(.success(Self.state)))
        #expect(finish.summary == "finish(r:stale_content_hash)")
        if case .finish(let endings, _) = finish { #expect(endings[0].error?.status == 412) }  // If-Match: 412, body: 409
        #expect(round.next(.done).summary == "begin(PUT key-1 a)")
    }

    @Test func aFailingReadIsRetriedWithBackoffOrFailsTheBatch() {
        var retried = Self.readingQueued([Self.a])
        #expect(retried.next(.controls(.failure(F.rokt(503, retryAfter: .seconds(2))))).summary == "roundEnded")
        #expect(retried.next(.done).summary == "end(backoff 3 ≥ 2.0 seconds)")

        var refused = Self.readingQueued([Self.a])
        #expect(refused.next(.controls(.failure(F.rokt(404)))).summary == "finish(a:upstream_not_found)")
        #expect(refused.next(.done).summary == "roundEnded")
    }

    @Test func conflictsReReadUnderANewKeyUpToTheLimit() {
        var round = Self.readingQueued([Self.a], Self.configuration { $0.maxConflictRetries = 1 })
        _ = round.next(.controls(.success(Self.state)))
        #expect(round.next(.done).summary == "send(PUT key-1 a)")
        #expect(round.next(.written(.failed(F.rokt(409)))).summary == "abandon(key-1)")
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(a)")
        #expect(round.next(.controls(.success(Self.state))).summary == "begin(PUT key-2 a)")
        #expect(round.next(.done).summary == "send(PUT key-2 a)")
        #expect(round.next(.written(.failed(F.rokt(409)))).summary == "abandon(key-2)")
        #expect(round.next(.done).summary == "finish(a:conflict_retries_exhausted)")
        #expect(round.next(.done).summary == "roundEnded")
    }

    @Test func aRejectedBatchIsBisectedSoOnlyTheBadChangeFails() {
        var round = Self.readingQueued([Self.a, Self.b, Self.c])
        _ = round.next(.controls(.success(Self.state)))
        _ = round.next(.done)
        #expect(round.next(.written(.failed(F.rokt(400)))).summary == "abandon(key-1)")
        // First half [a]: rejected alone, it fails without another split.
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(a)")
        #expect(round.next(.controls(.success(Self.state))).summary == "begin(PUT key-2 a)")
        #expect(round.next(.done).summary == "send(PUT key-2 a)")
        #expect(round.next(.written(.failed(F.rokt(400)))).summary == "finish(a:upstream_rejected; delete)")
        // Second half [b, c]: written together.
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(b,c)")
        #expect(round.next(.controls(.success(Self.state))).summary == "begin(PUT key-3 b,c)")
        #expect(round.next(.done).summary == "send(PUT key-3 b,c)")
        #expect(round.next(.written(.succeeded(nil))).summary == "readControls(b,c)")
        #expect(round.next(.controls(.success(Self.state))).summary == "finish(b:changed,c:changed; delete)")
        #expect(round.next(.done).summary == "roundEnded")
    }

    @Test func transientWriteFailuresAndUnfinishedOperationsHandTheJobBack() {
        for (result, expected) in [
            (UpstreamWriter.Result.failed(F.rokt(503)), "end(backoff 3)"),
            (.failed(F.rokt(429, retryAfter: .seconds(7))), "end(backoff 3 ≥ 7.0 seconds)"),
            (.failed(F.timeout), "end(backoff 3)"),
            (.stillPending, "end(retry 5.0 seconds)"),
        ] {
            var round = Self.readingQueued([Self.a])
            _ = round.next(.controls(.success(Self.state)))
            _ = round.next(.done)
            #expect(round.next(.written(result)).summary == "roundEnded")
            #expect(round.next(.done).summary == expected)
        }
    }

    @Test func aFinalRefusalFailsTheWrittenOperations() {
        var round = Self.readingQueued([Self.a])
        _ = round.next(.controls(.success(Self.state)))
        _ = round.next(.done)
        #expect(round.next(.written(.failed(F.rokt(422)))).summary == "finish(a:upstream_rejected; delete)")
    }

    @Test func theCoalescingWindowOpensFromTheSecondRoundOnly() {
        var round = Self.readingQueued([Self.a])
        #expect(round.next(.controls(.success(Self.blocked))).summary == "finish(a:unchanged)")
        #expect(round.next(.done).summary == "roundEnded")
        #expect(round.next(.done).summary == "loadPendingWrite")
        #expect(round.next(.pendingWrite(nil)).summary == "loadQueued(1000)")
        #expect(round.next(.queued([Self.b])).summary == "wait(0.005 seconds)")
        #expect(round.next(.done).summary == "loadQueued(1000)")
        #expect(round.next(.queued([Self.b, Self.c])).summary == "roundStarted")
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(b,c)")
    }

    @Test func noWindowForAFullBatchOrAZeroWindow() {
        for configuration in [Self.configuration { $0.maxBatch = 1 }, Self.configuration { $0.coalescingWindow = .zero }] {
            var round = Self.round(configuration)
            _ = round.start()
            _ = round.next(.pendingWrite(nil))
            _ = round.next(.queued([Self.a]))
            _ = round.next(.done)
            _ = round.next(.done)
            _ = round.next(.controls(.success(Self.blocked)))
            _ = round.next(.done)
            _ = round.next(.done)
            _ = round.next(.pendingWrite(nil))
            #expect(round.next(.queued([Self.b])).summary == "roundStarted")
        }
    }

    @Test func aRunEndsAfterSixteenRounds() {
        var round = Self.round()
        var action = round.start()
        var rounds = 0
        while case let summary = action.summary, summary != "end(idle)" {
            switch action {
            case .loadPendingWrite: action = round.next(.pendingWrite(nil))
            case .loadQueued: action = round.next(.queued([F.operation("x\(rounds)", .controls(.removeDomain("absent.example.com")))]))
            case .readControls: action = round.next(.controls(.success(Self.state)))
            case .roundEnded:
                rounds += 1
                action = round.next(.done)
            default: action = round.next(.done)
            }
            #expect(rounds <= 16, "\(summary)")
            if rounds > 16 { return }
        }
        #expect(rounds == ControlsRound.roundsPerRun)
    }

    static func plan(_ changed: [String: Bool]) -> [UInt8] {
        JSON.encode(ControlsReconciler.Plan(changed: changed, desired: MarketplaceControls(name: "Acme", domains: [BlockedDomain(domain: "b.example.com")])))
    }

    /// Drives a round that found `pending` to the step after loading its operations.
    static func resuming(_ pending: PendingWrite, operations: [StoredOperation], now: Int64 = F.now) -> (ControlsRound, ControlsRound.Action) {
        var round = round(now: now)
        _ = round.start()
        #expect(round.next(.pendingWrite(pending)).summary == "roundStarted")
        #expect(round.next(.done).summary == "loadOperations(\(pending.operationIds.joined(separator: ",")))")
        let action = round.next(.operations(operations))
        return (round, action)
    }

    @Test func aPendingWriteIsReSentUnderItsKeyForTheLiveOperations() {
        let pending = F.pendingWrite(["a", "b"], resource: "controls", plan: Self.plan(["a": true, "b": false]))
        var (round, action) = Self.resuming(
            pending,
            operations: [
                F.operation("a", Self.a.intent, state: .running),
                F.operation("b", Self.b.intent, state: .succeeded),
            ])
        #expect(action.summary == "renewLease")
        #expect(round.next(.done).summary == "countAttempt(a,b)")
        #expect(round.next(.done).summary == "send(PUT old-key a,b)")
        #expect(round.next(.written(.succeeded(nil))).summary == "readControls(a,b)")
        #expect(round.next(.controls(.success(Self.state))).summary == "finish(a:changed; delete)")
    }

    @Test func aPendingWritePastTheKeyAgeStartsOverAndOneWithNothingLiveIsDropped() {
        let pending = F.pendingWrite(["a"], resource: "controls", plan: Self.plan(["a": true]), createdAt: F.now)
        let age = EngineConfiguration().keyMaxAge.milliseconds
        var (old, abandon) = Self.resuming(pending, operations: [Self.a], now: F.now + age + 1)
        #expect(abandon.summary == "abandon(old-key)")
        #expect(old.next(.done).summary == "roundEnded")
        #expect(Self.resuming(pending, operations: [Self.a], now: F.now + age).1.summary == "renewLease")  // not past it yet

        var (ended, drop) = Self.resuming(pending, operations: [F.operation("a", Self.a.intent, state: .failed)])
        #expect(drop.summary == "dropPendingWrite")
        #expect(ended.next(.done).summary == "roundEnded")
    }

    @Test func aResumedWriteThatConflictsIsMergedAfresh() {
        let pending = F.pendingWrite(["a"], resource: "controls", plan: Self.plan(["a": true]))
        var (round, _) = Self.resuming(pending, operations: [Self.a])
        _ = round.next(.done)
        _ = round.next(.done)
        #expect(round.next(.written(.failed(F.rokt(409)))).summary == "abandon(old-key)")
        #expect(round.next(.done).summary == "renewLease")
        #expect(round.next(.done).summary == "readControls(a)")
        #expect(round.next(.controls(.success(Self.state))).summary == "begin(PUT key-1 a)")
    }

    @Test func aStoreFailureOrAnUnreadablePlanEndsTheRunWithABackoff() {
        var failed = Self.readingQueued([Self.a])
        _ = failed.next(.controls(.success(Self.state)))
        #expect(failed.next(.failed).summary == "end(backoff 3)")

        var unreadable = Self.round()
        _ = unreadable.start()
        #expect(unreadable.next(.pendingWrite(F.pendingWrite(["a"], resource: "controls", plan: Array("{}".utf8)))).summary == "end(backoff 3)")
    }

    @Test func anAnswerOutOfTurnEndsTheRunInsteadOfTheProcess() {
        var round = Self.round()
        _ = round.start()
        #expect(round.next(.controls(.success(Self.state))).summary == "end(backoff 3)")
    }
}
