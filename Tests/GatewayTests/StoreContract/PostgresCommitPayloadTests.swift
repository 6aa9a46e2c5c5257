import Testing
@testable import Gateway

/// The commit channel's payloads and the listener's backoff: pure, no server.
@Suite struct PostgresCommitPayloadTests {
    @Test(arguments: [
        StoreCommit.jobDue(ClaimedJobKey(merchantId: "m \"1\"", resource: "status")), .deliveriesDue, .apiKeysChanged,
        .operationsEnded(["op_a", "op_b"]),
    ])
    func everyNoticeRoundTripsWithItsSender(_ commit: StoreCommit) throws {
        let payloads = PostgresCommitPayload.encode(commit, from: "store_1")
        #expect(payloads.count == 1)
        let decoded = try #require(PostgresCommitPayload.decode(payloads[0]))
        #expect(decoded.from == "store_1" && decoded.commit == commit)
    }

    @Test func aLongListOfEndedOperationsIsSplitUnderTheNotifyLimitInOrder() throws {
        let ids = (0..<2_000).map { "op_\(String($0, radix: 16))_0190000000001234abcd" }
        let payloads = PostgresCommitPayload.encode(.operationsEnded(ids), from: "store_1")
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count < 8000 })
        // Full chunks: each holds as many ids as fit.
        #expect(payloads.dropLast().allSatisfy { $0.utf8.count > 8000 - 40 })
        var joined: [String] = []
        for payload in payloads {
            guard case .operationsEnded(let chunk) = PostgresCommitPayload.decode(payload)?.commit else {
                Issue.record("not an ending: \(payload)")
                return
            }
            joined += chunk
        }
        #expect(joined == ids)
    }

    @Test func aNoticeThatCannotFitIsNotSent() {
        let huge = String(repeating: "m", count: 8_000)
        #expect(PostgresCommitPayload.encode(.jobDue(ClaimedJobKey(merchantId: huge, resource: "status")), from: "s").isEmpty)
        #expect(PostgresCommitPayload.encode(.operationsEnded([]), from: "s").isEmpty)
    }

    @Test(arguments: ["", "not json", #"{"jobDue":{"merchantId":"m","resource":"r"}}"#, #"{"from":"s","somethingNew":1}"#, #"{"from":"s","operationsEnded":[1]}"#])
    func aPayloadThisBuildDoesNotKnowIsIgnored(_ payload: String) {
        #expect(PostgresCommitPayload.decode(payload) == nil)
    }

    @Test func theListenerBacksOffFrom100MillisecondsTo5Seconds() {
        var delays = [ListenerBackoff.initial]
        for _ in 0..<8 { delays.append(ListenerBackoff.next(after: delays.last!)) }
        #expect(delays.map { Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } == [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000])
    }
}
