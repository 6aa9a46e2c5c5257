import Foundation
import HTTP
@testable import RoktSandbox
import Testing

/// The core pipeline as a plain value: no sockets, no lock, time passed in.
@Suite struct SandboxStateTests {
    let t0 = ManualSandboxClock().now

    func makeState() -> SandboxState {
        let settings = SandboxSettings(
            seed: .demo, credentials: [SandboxDemo.token: SandboxDemo.parentAccountId, SandboxDemo.otherToken: SandboxDemo.otherParentAccountId],
            primaryParentAccountId: SandboxDemo.parentAccountId, mapping: .demo, ecommerceApiKey: SandboxDemo.ecommerceApiKey,
            tagId: SandboxDemo.tagId, placementResults: [:], defaultPlacementResult: true, requestLogLimit: 100,
            operationLimit: 100, idempotencyLimit: 100)
        return SandboxState(settings: settings, now: t0, randomSeed: 1)
    }

    func putStatus(_ status: String, key: String?, query: [String: String] = [:]) -> SandboxCall {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(SandboxDemo.token)"]
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        return SandboxCall(
            endpoint: .putStatus, method: "PUT", path: "/v1/partnership/accounts/demo-merchant-1/status",
            pathParameters: ["account_id": SandboxDemo.merchant1], query: query, headers: headers, body: Array(#"{"status":"\#(status)"}"#.utf8))
    }

    func aggregate(_ state: SandboxState) -> AggregateStatus? { state.world.accounts[SandboxDemo.merchant1]?.statusCascade.status }

    @Test func sameKeyReplaysTheStoredReplyWhateverTheNewBody() {
        var state = makeState()
        let first = state.handle(putStatus("paused", key: "k"), clockReading: t0).reply
        let second = state.handle(putStatus("active", key: "k"), clockReading: t0).reply
        #expect(first?.status == 200)
        #expect(second?.body == first?.body)
        #expect(second?.headers["Idempotent-Replayed"] == "true")
        #expect(aggregate(state) == .paused)
        #expect(state.operations.count == 1)
    }

    @Test func keyIsForgottenAfterTwentyFourHoursOfInjectedTime() {
        var state = makeState()
        _ = state.handle(putStatus("paused", key: "k"), clockReading: t0)
        _ = state.handle(putStatus("active", key: "k"), clockReading: t0.addingTimeInterval(86_399))
        #expect(aggregate(state) == .paused)
        _ = state.handle(putStatus("active", key: "k"), clockReading: t0.addingTimeInterval(86_400))
        #expect(aggregate(state) == .active)
    }

    @Test func dryRunBurnsItsKeyAndCommitsNothing() {
        var state = makeState()
        let dry = state.handle(putStatus("paused", key: "k", query: ["dry_run": "true"]), clockReading: t0).reply
        #expect(dry?.status == 200)
        #expect(dry?.headers["X-Operation-Id"] == nil)
        #expect(aggregate(state) == .active)
        let real = state.handle(putStatus("paused", key: "k"), clockReading: t0).reply
        #expect(real?.body == dry?.body)
        #expect(aggregate(state) == .active)
        #expect(state.operations.isEmpty)
    }

    @Test func writeWithoutKeyIs400AndChangesNothing() {
        var state = makeState()
        let reply = state.handle(putStatus("paused", key: nil), clockReading: t0).reply
        #expect(reply?.status == 400)
        let text = String(decoding: reply?.body ?? [], as: UTF8.self)
        #expect(text.contains("idempotency_key_required"))
        #expect(aggregate(state) == .active)
    }

    @Test func everyRequestIsLoggedWithItsStatus() {
        var state = makeState()
        _ = state.handle(putStatus("paused", key: nil), clockReading: t0)
        _ = state.handle(putStatus("paused", key: "k"), clockReading: t0)
        #expect(state.log.entries.map(\.status) == [400, 200])
        #expect(state.log.entries.last?.header("idempotency-key") == "k")
    }

    @Test func resetReturnsToTheSeedButIdsKeepCounting() {
        var state = makeState()
        let first = state.handle(putStatus("paused", key: "k"), clockReading: t0).reply?.headers["X-Operation-Id"]
        state.reset(now: t0)
        #expect(aggregate(state) == .active)
        #expect(state.operations.isEmpty && state.log.entries.isEmpty)
        let second = state.handle(putStatus("paused", key: "k"), clockReading: t0).reply?.headers["X-Operation-Id"]
        #expect(second != nil && second != first)
    }

    @Test func requestLogKeepsTheNewestEntriesUpToItsLimit() {
        var log = RequestLog(limit: 3)
        for i in 0..<5 {
            log.append(
                SandboxLoggedRequest(
                    method: "GET", path: "/\(i)", query: [:], headers: [], body: "", status: 200,
                    requestId: "r\(i)", replayed: false, fault: nil, receivedAt: t0))
        }
        #expect(log.entries.map(\.path) == ["/2", "/3", "/4"])
    }

    @Test func operationLedgerForgetsTheOldestFinishedOperationsButNeverPendingOnes() {
        var ledger = OperationLedger(limit: 4)
        func operation(_ n: Int, _ state: SandboxOperation.State) -> SandboxOperation {
            SandboxOperation(
                operationId: "op_\(n)", type: "status.set", accountId: nil, managerAccountId: "m", state: state,
                createdAt: t0.addingTimeInterval(Double(n)), updatedAt: t0, pollsRemaining: 0)
        }
        ledger["op_0"] = operation(0, .pending)
        for n in 1...5 { ledger["op_\(n)"] = operation(n, .succeeded) }
        #expect(ledger.count <= 4)
        #expect(ledger["op_0"] != nil)
        #expect(ledger["op_5"] != nil)
        #expect(ledger["op_1"] == nil)
    }

    @Test func requestIDsAreUniqueAndUUIDShaped() {
        var ids = RequestIdSequence(prefix: 0x1234_5678_9ABC_DEF0)
        let minted = (0..<1000).map { _ in ids.next() }
        #expect(Set(minted).count == 1000)
        #expect(minted.allSatisfy { UUID(uuidString: $0) != nil })
    }
}
