import Rokt
import Testing
@testable import Gateway
import JSON

/// The events an ending causes are built in memory from the operation as it ends.
@Suite struct WebhookEventsTests {
    static func operation(_ intent: OperationIntent) -> StoredOperation {
        StoredOperation(
            id: "op_0190000000001234567890abcdef", type: intent.operationType, merchantId: "m1", resource: intent.resource,
            state: .running, changed: nil, attempts: 2, createdAt: 1_000, updatedAt: 2_000, request: .object([:]), intent: intent,
            result: nil, error: nil, apiKeyId: "key_1")
    }

    @Test func aChangingStatusSuccessCausesTheOperationAndTheStatusEvent() {
        let ending = OperationEnding.success(Self.operation(.status(.paused)), changed: true, result: #"{"status":"paused"}"#)
        let ended = ending.applied(to: ending.operation, at: 3_000)
        #expect(ended.state == .succeeded && ended.updatedAt == 3_000 && ended.attempts == 2)
        let events = WebhookEvents.ending(ended)
        #expect(events.map(\.type) == [.operationSucceeded, .merchantStatusChanged])
        #expect(events.allSatisfy { $0.merchantId == "m1" && $0.factId != nil })
        #expect(Set(events.compactMap(\.factId)).count == 2)
        let summary = events[0].data["operation"]
        #expect(summary?["id"] == .string(ended.id) && summary?["upstream"] == nil && summary?["merchantId"] == nil)
        #expect(summary?["state"] == .string("succeeded") && summary?["attempts"] == .number(2))
        #expect(events[1].data["status"] == .object(["status": .string("paused")]))
    }

    @Test func anUnchangedSuccessCausesOnlyTheOperationEvent() {
        let ending = OperationEnding.success(Self.operation(.status(.active)), changed: false, result: #"{"status":"active"}"#)
        let events = WebhookEvents.ending(ending.applied(to: ending.operation, at: 3_000))
        #expect(events.map(\.type) == [.operationSucceeded])
    }

    @Test func anIncompleteCascadeCausesItsOwnEventCarryingTheStampedError() {
        let problem = Problem(status: 502, code: .cascadeIncomplete, detail: "Variants stayed behind.")
        let ending = OperationEnding.failure(Self.operation(.status(.paused)), problem)
        let ended = ending.applied(to: ending.operation, at: 3_000)
        #expect(ended.error?.operationId == ended.id && ended.state == .failed && ended.changed == false)
        let events = WebhookEvents.ending(ended)
        #expect(events.map(\.type) == [.operationFailed, .merchantCascadeIncomplete])
        #expect(events[1].data["error"]?["operationId"] == .string(ended.id))
        #expect(events[1].data["error"] == events[0].data["operation"]?["error"])
    }

    @Test func aFactIdKeepsTheOperationsTimeDigitsAndIsStable() {
        let data: [String: JSONValue] = ["operationId": .string("op_0190000000001234567890abcdef")]
        let id = WebhookEvents.factEventId(type: .controlsChanged, data: data)
        #expect(id == WebhookEvents.factEventId(type: .controlsChanged, data: data))
        #expect(id?.hasPrefix("evt_019000000000") == true && id?.count == 32)
        #expect(id != WebhookEvents.factEventId(type: .operationSucceeded, data: data))
        #expect(WebhookEvents.factEventId(type: .controlsChanged, data: [:]) == nil)
    }
}
