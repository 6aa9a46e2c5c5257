import Testing
@testable import Gateway
@testable import Rokt

/// `SingleWriteRound`'s decision table, driven event by event: no sockets, no store, no sleeping.
@Suite struct SingleWriteRoundTests {
    typealias F = RoundFixtures
    static let page = F.operation(
        "w",
        .single(
            SingleWrite(
                kind: .page, lane: "pages", method: "POST", path: "/pages",
                body: .object(["name": .string("Home")]))))
    static let register = F.operation(
        "r",
        .single(
            SingleWrite(
                kind: .register, lane: "register", method: "POST", path: "/accounts",
                body: .object(["external_account_id": .string("ext-1")]))))
    static let theme = F.operation("t", .single(SingleWrite(kind: .theme, lane: "theme:l1", method: "PATCH", path: "/theme", body: nil)))

    static func round(now: Int64 = F.now) -> SingleWriteRound {
        let keys = F.Keys()
        return SingleWriteRound(configuration: EngineConfiguration(), job: F.job("write:pages"), now: { now }, newKey: keys.next)
    }

    /// A new round up to sending `operation`'s write.
    static func sending(_ operation: StoredOperation) -> SingleWriteRound {
        var round = round()
        #expect(round.start().summary == "loadPendingWrite")
        #expect(round.next(.pendingWrite(nil)).summary == "loadQueued(1)")
        #expect(round.next(.queued([operation])).summary == "renewLease")
        let method = if case .single(let write) = operation.intent { write.method } else { "" }
        #expect(round.next(.done).summary == "begin(\(method) key-1 \(operation.id))")
        #expect(round.next(.done).summary == "send(\(method) key-1 \(operation.id))")
        return round
    }

    @Test func anEmptyQueueEndsTheRunIdleAndAForeignIntentFailsAlone() {
        var empty = Self.round()
        _ = empty.start()
        _ = empty.next(.pendingWrite(nil))
        #expect(empty.next(.queued([])).summary == "end(idle)")

        var foreign = Self.round()
        _ = foreign.start()
        _ = foreign.next(.pendingWrite(nil))
        #expect(foreign.next(.queued([F.operation("x", .status(.paused))])).summary == "finish(x:internal_error)")
        #expect(foreign.next(.done).summary == "loadPendingWrite")
    }

    @Test func rokTsAnswerIsTheResult() {
        var round = Self.sending(Self.page)
        let finish = round.next(.written(.succeeded(F.response(201, #"{"pageId":"pg-1"}"#))))
        #expect(finish.summary == "finish(w:changed; delete)")
        if case .finish(let endings, _) = finish { #expect(endings[0].result == #"{"pageId":"pg-1"}"#) }
    }

    @Test func aWriteFinishedAsynchronouslyTakesItsResultFromRoktsOperation() {
        var round = Self.sending(Self.page)
        #expect(round.next(.written(.succeeded(nil))).summary == "loadPendingWrite")
        let stored = F.pendingWrite(["w"], resource: "write:pages", plan: [], upstreamOperationId: "op-9")
        #expect(round.next(.pendingWrite(stored)).summary == "readUpstreamOperation(op-9 for w)")
        let finish = round.next(
            .upstreamOperation(
                .success(
                    RoktOperation(
                        operationId: "op-9", status: "succeeded",
                        result: .object(["pageId": .string("pg-2")])))))
        if case .finish(let endings, _) = finish { #expect(endings[0].result == #"{"pageId":"pg-2"}"#) }

        var unknown = Self.sending(Self.page)
        _ = unknown.next(.written(.succeeded(nil)))
        let empty = unknown.next(.pendingWrite(nil))
        if case .finish(let endings, _) = empty { #expect(endings[0].result == "{}") } else { Issue.record("\(empty.summary)") }
    }

    @Test func aRegisterRecordsTheAccountAndTellsNewFromKnown() {
        for (status, expected) in [(201, "recordRegistration(r acc-1 ext-1 new)"), (200, "recordRegistration(r acc-1 ext-1)")] {
            var round = Self.sending(Self.register)
            #expect(round.next(.written(.succeeded(F.response(status, #"{"accountId":"acc-1"}"#)))).summary == expected)
            #expect(round.next(.done).summary == "finish(r:\(status == 201 ? "changed" : "unchanged"); delete)")
        }
    }

    @Test func failuresAreRetriedUnderTheSameKeyOrEndTheOperation() {
        for (result, expected) in [
            (UpstreamWriter.Result.failed(F.rokt(502)), "end(backoff 3)"), (.failed(F.timeout), "end(backoff 3)"),
            (.failed(F.rokt(429, retryAfter: .seconds(9))), "end(backoff 3 ≥ 9.0 seconds)"),
            (.stillPending, "end(retry 5.0 seconds)"), (.failed(F.rokt(404)), "finish(w:upstream_not_found; delete)"),
        ] {
            var round = Self.sending(Self.page)
            #expect(round.next(.written(result)).summary == expected)
        }
    }

    static func resuming(_ operation: StoredOperation, pending: PendingWrite, now: Int64 = F.now) -> (SingleWriteRound, SingleWriteRound.Action) {
        var round = round(now: now)
        _ = round.start()
        #expect(round.next(.pendingWrite(pending)).summary == "loadOperation(\(operation.id))")
        let action = round.next(.operation(operation))
        return (round, action)
    }

    @Test func aPendingWriteIsReSentWithItsKey() {
        let pending = F.pendingWrite(["w"], resource: "write:pages", plan: [])
        var (round, action) = Self.resuming(Self.page, pending: pending)
        #expect(action.summary == "renewLease")
        #expect(round.next(.done).summary == "countAttempt(w)")
        #expect(round.next(.done).summary == "send(PUT old-key w)")
    }

    @Test func pastTheKeyAgeAWriteWithoutReadBackEndsOutcomeUnknownAndOneWithReadBackStartsOver() throws {
        let late = F.now + EngineConfiguration().keyMaxAge.milliseconds + 1
        var (unknown, loadCalls) = Self.resuming(Self.page, pending: F.pendingWrite(["w"], resource: "write:pages", plan: []), now: late)
        #expect(loadCalls.summary == "loadCalls(w)")
        let call = UpstreamCall(
            method: "POST", path: "/pages", idempotencyKey: "old-key", status: nil, requestId: "req-1", operationId: nil, durationMs: 1, at: 0, error: "timeout")
        let finish = unknown.next(.calls([call]))
        #expect(finish.summary == "finish(w:outcome_unknown; delete)")
        if case .finish(let endings, _) = finish {
            #expect(endings[0].error?.context?["requestIds"] == .array([.string("req-1")]))
        }

        let (_, abandon) = Self.resuming(Self.theme, pending: F.pendingWrite(["t"], resource: "write:theme:l1", plan: []), now: late)
        #expect(abandon.summary == "abandon(old-key)")

        // Following Rokt's operation id is a read: safe at any age.
        let polling = F.pendingWrite(["w"], resource: "write:pages", plan: [], upstreamOperationId: "op-1")
        #expect(Self.resuming(Self.page, pending: polling, now: late).1.summary == "renewLease")

        let (_, drop) = Self.resuming(F.operation("w", Self.page.intent, state: .succeeded), pending: polling)
        #expect(drop.summary == "dropPendingWrite")
    }

    @Test func aStoreFailureEndsTheRunWithABackoff() {
        var round = Self.sending(Self.page)
        #expect(round.next(.failed).summary == "end(backoff 3)")
    }
}
