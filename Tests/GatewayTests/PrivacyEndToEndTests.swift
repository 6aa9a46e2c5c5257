import Foundation
import HTTP
import Rokt
import RoktSandbox
import Synchronization
import Testing
@testable import Gateway

/// Every line the gateway logs during a test.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite(.serialized) struct PrivacyEndToEndTests {
    static let path = "/v1/privacy-requests"
    static let email = "jane.doe+rokt@example.com"
    static let phone = "+61412345678"

    @Test(.readsSQLiteTables) func optOutReachesRoktButTheIdentifiersNeverReachTheLogs() async throws {
        let logs = LogCapture()
        try await withGateway(logSink: logs.sink) { gateway in
            gateway.sandbox.resetRequestLog()
            let body = #"{"requestType":"opt_out","identifiers":[{"type":"email","value":"\#(Self.email)"},{"type":"phone","value":"\#(Self.phone)"}]}"#
            let response = try await gateway.call(.post, Self.path, json: body)
            #expect(response.status == 200)
            #expect(response["type"] == .string("privacy.request"))
            #expect(response["result"]?["status"] == .string("received"))
            // Rokt got the identifiers…
            let sent = gateway.upstream("POST", pathSuffix: "/network-privacy-requests")
            #expect(sent.count == 1)
            #expect(sent.first?.body.contains(Self.email) == true)
            // …the caller's operation document and the logs only their hashes.
            #expect(!response.text.contains(Self.email) && !response.text.contains(Self.phone))
            #expect(response["request"]?["identifiers"]?.array?.first?["valueSha256"] == .string(Digest.sha256Hex(Self.email)))
            let operation = try await gateway.call(.get, "/v1/operations/\(response["id"]?.stringValue ?? "")")
            #expect(!operation.text.contains(Self.email))
            let lines = logs.all
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { !$0.contains(Self.email) && !$0.contains(Self.phone) && !$0.contains("jane.doe") })
            #expect(lines.contains { $0.contains(Digest.sha256Hex(Self.email)) })
            // Nor does the store keep them once the request is done.
            let stored = try await gateway.database.read { db in
                try db.query("SELECT intent FROM operations").map { try $0.get(0, as: String.self) }
            }
            #expect(stored.allSatisfy { !$0.contains(Self.email) })
        }
    }

    @Test func invalidIdentifiersAre400WithoutEchoingThem() async throws {
        let logs = LogCapture()
        try await withGateway(logSink: logs.sink) { gateway in
            gateway.sandbox.resetRequestLog()
            let secret = "not-an-email-secret-value"
            let body = #"{"requestType":"forget","identifiers":[{"type":"email","value":"\#(secret)"},{"type":"ssn","value":"123"},{"type":"phone","value":"0412"}]}"#
            let response = try await gateway.call(.post, Self.path, json: body)
            #expect(response.status == 400)
            let fields = Set(response["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? [])
            #expect(fields == ["requestType", "identifiers[0].value", "identifiers[1].type", "identifiers[2].value"])
            #expect(!response.text.contains(secret) && !response.text.contains("0412"))
            #expect(try await gateway.call(.post, Self.path, json: #"{"requestType":"deletion","identifiers":[]}"#).status == 400)
            #expect(gateway.sandbox.requestLog.isEmpty)
            #expect(logs.all.allSatisfy { !$0.contains(secret) })
        }
    }

    @Test func networkWideRequestsNeedAnUnrestrictedWriteKey() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read])
            let restricted = try await gateway.makeKey([.write], merchants: [SandboxDemo.merchant1])
            let writer = try await gateway.makeKey([.write])
            gateway.sandbox.resetRequestLog()
            let body = #"{"requestType":"deletion","identifiers":[{"type":"email_sha256","value":"\#(Digest.sha256Hex("a@b.example"))"}]}"#
            #expect(try await gateway.call(.post, Self.path, json: body, anonymous: true).status == 401)
            #expect(try await gateway.call(.post, Self.path, json: body, key: reader).status == 403)
            #expect(try await gateway.call(.post, Self.path, json: body, key: restricted).status == 403)
            #expect(gateway.sandbox.requestLog.isEmpty)
            #expect(try await gateway.call(.post, Self.path, json: body, key: writer).status == 200)
        }
    }

    @Test func upstream5xxIsRetriedWithOneKeyAnd4xxIsNot() async throws {
        try await withGateway { gateway in
            let body = #"{"requestType":"opt_out","identifiers":[{"type":"phone","value":"\#(Self.phone)"}]}"#
            gateway.sandbox.faults.failNext(1, method: "POST", path: "/v1/partnership/network-privacy-requests", status: 500)
            gateway.sandbox.resetRequestLog()
            #expect(try await gateway.call(.post, Self.path, json: body).status == 200)
            let posts = gateway.upstream("POST")
            #expect(posts.map(\.status) == [500, 201])
            #expect(Set(posts.compactMap { $0.header("Idempotency-Key") }).count == 1)

            gateway.sandbox.faults.failNext(1, method: "POST", path: "/v1/partnership/network-privacy-requests", status: 422)
            gateway.sandbox.resetRequestLog()
            let failed = try await gateway.call(.post, Self.path, json: body)
            #expect(failed.status == 422)
            #expect(failed["upstream"]?["message"]?.stringValue?.isEmpty == false)
            #expect(!failed.text.contains(Self.phone))
            #expect(gateway.upstream("POST").count == 1)
        }
    }
}

@Suite(.serialized) struct DataDeletionEndToEndTests {
    static let path = "/v1/merchants/\(SandboxDemo.merchant2)/data-deletion-requests"

    @Test func requestsDeletionOfAMerchantsData() async throws {
        try await withGateway { gateway in
            let response = try await gateway.call(.post, Self.path, json: #"{"reason":"merchant offboarded"}"#)
            #expect(response.status == 200)
            #expect(response["type"] == .string("merchant.data_deletion"))
            #expect(response["result"]?["deletionRequestId"]?.stringValue != nil)
            #expect(response["result"]?["reason"] == .string("merchant offboarded"))
            #expect(try await gateway.call(.post, Self.path).status == 200)
        }
    }

    @Test func failuresAreClassified() async throws {
        try await withGateway(roktTimeout: .milliseconds(300)) { gateway in
            let m1Writer = try await gateway.makeKey([.write], merchants: [SandboxDemo.merchant1])
            gateway.sandbox.resetRequestLog()
            #expect(try await gateway.call(.post, Self.path, key: m1Writer).status == 403)
            let long = String(repeating: "x", count: 501)
            let bad = try await gateway.call(.post, Self.path, json: #"{"reason":"\#(long)","note":1}"#)
            #expect(Set(bad["errors"]?.array?.compactMap { $0["field"]?.stringValue } ?? []) == ["reason", "note"])
            #expect(gateway.sandbox.requestLog.isEmpty)

            gateway.sandbox.faults.addLatency(milliseconds: 1000, method: "POST", count: 1)
            let slow = try await gateway.call(.post, Self.path)
            #expect(slow.status == 200)
            #expect(Set(gateway.upstream("POST").compactMap { $0.header("Idempotency-Key") }).count == 1)
        }
    }
}
