import Foundation
import HTTP
import JSON
import RoktSandbox
import Testing
@testable import Gateway

/// W3C Trace Context and the access log end to end: the real gateway, the real sandbox (its
/// request log keeps the headers it received), a real webhook receiver, log lines captured
/// through the logger's sink.
@Suite struct TracingEndToEndTests {
    static let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let callerSpan = "00f067aa0ba902b7"
    static let addVertical = #"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#
    static var path: String { "/v1/merchants/\(SandboxDemo.merchant2)/controls/blocked-verticals" }

    static func lines(_ logs: LogCapture) -> [JSONValue] {
        logs.all.compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    @Test func aWriteCarriesTheCallersTraceToRoktAndOntoTheOperation() async throws {
        let logs = LogCapture()
        try await withGateway(logSink: logs.sink) { gateway in
            gateway.sandbox.resetRequestLog()
            let response = try await gateway.call(
                .post, Self.path, json: Self.addVertical,
                headers: ["traceparent": "00-\(Self.traceId)-\(Self.callerSpan)-01", "tracestate": "vendor=opaque", "X-Request-Id": "req-caller-1"])
            #expect(response.status == 200)
            let operationId = try #require(response["id"]?.stringValue)
            #expect(response["traceId"] == .string(Self.traceId))

            let upstream = gateway.upstream()
            #expect(upstream.count == 2, "one GET and one PUT")
            var gatewaySpans: Set<String> = []
            for request in upstream {
                let parent = try #require(TraceParent(parsing: request.header("traceparent") ?? ""), "\(request.method) \(request.path)")
                #expect(parent.traceId == Self.traceId)
                #expect(parent.parentId != Self.callerSpan, "the gateway's own span is the parent")
                #expect(parent.flags == 1)
                #expect(request.header("tracestate") == "vendor=opaque")
                #expect(request.header("X-Request-Id") != nil)
                gatewaySpans.insert(parent.parentId)
            }
            #expect(gatewaySpans.count == 1, "the engine's run is one span")

            let operation = try await gateway.call(.get, "/v1/operations/\(operationId)")
            #expect(operation["traceId"] == .string(Self.traceId))
            let calls = try #require(operation["upstream"]?.array)
            #expect(calls.count == 2 && calls.allSatisfy { $0["traceId"] == .string(Self.traceId) })

            // The request's log lines (its access line at least) carry the trace; the span is the gateway's.
            let access = Self.lines(logs).filter { $0["msg"] == .string("request") && $0["method"] == .string("POST") }
            #expect(access.count == 1)
            #expect(access.first?["trace_id"] == .string(Self.traceId))
            #expect(access.first?["span_id"]?.stringValue.map { $0.count == 16 && $0 != Self.callerSpan } == true)
            #expect(access.first?["request_id"] == .string("req-caller-1"))
            #expect(access.first?["route"] == .string("/v1/merchants/{accountId}/controls/blocked-verticals"))
            #expect(access.first?["status"] == .number(200))
            #expect(access.first?["bytes_in"] == .number(Double(Self.addVertical.utf8.count)))
            #expect(access.first?["bytes_out"] == .number(Double(response.body.count)))
            #expect(access.first?["duration_ms"]?.doubleValue.map { $0 > 0 } == true)
            #expect(access.first?["operation_id"] == .string(operationId))
            #expect(access.first?["api_key_id"]?.stringValue?.isEmpty == false)
            #expect(!logs.all.contains { $0.contains(gateway.adminKey) }, "the key itself is never logged")
            let read = Self.lines(logs).filter { $0["msg"] == .string("request") && $0["method"] == .string("GET") }
            #expect(read.last?["operation_id"] == .string(operationId), "a read of an operation names it")
            #expect(read.last?["trace_id"] != .string(Self.traceId), "a request without traceparent starts its own trace")
        }
    }

    @Test func withoutAValidTraceparentTheGatewayStartsATraceAndNeverRefuses() async throws {
        try await withGateway { gateway in
            for traceparent in [nil, "00-\(Self.traceId.uppercased())-\(Self.callerSpan)-01", "garbage"] {
                gateway.sandbox.resetRequestLog()
                var headers = HTTPHeaders()
                if let traceparent { headers["traceparent"] = traceparent }
                headers["tracestate"] = "dropped=1"
                let response = try await gateway.call(.post, Self.path, json: Self.addVertical, headers: headers)
                #expect(response.status == 200, "\(traceparent ?? "none")")
                let traceId = try #require(response["traceId"]?.stringValue)
                #expect(traceId != Self.traceId && TraceParent(traceId: traceId, parentId: Self.callerSpan, flags: 0) != nil)
                let sent = gateway.upstream().compactMap { $0.header("traceparent").flatMap(TraceParent.init(parsing:)) }
                #expect(sent.count == gateway.upstream().count && sent.allSatisfy { $0.traceId == traceId })
                #expect(gateway.upstream().allSatisfy { $0.header("tracestate") == nil })
            }
        }
    }

    @Test(.readsSQLiteTables) func aWebhookDeliveryCarriesTheOperationsTrace() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        defer { group.shutdown() }
        do {
            try await withGateway(configure: WebhookEndToEndTests.fastWebhooks) { gateway in
                #expect(try await WebhookEndToEndTests.createEndpoint(gateway, url: receiver.url).status == 201)
                let response = try await gateway.call(
                    .post, Self.path, json: Self.addVertical, headers: ["traceparent": "00-\(Self.traceId)-\(Self.callerSpan)-01"])
                #expect(response.status == 200)
                let received = try await receiver.wait { $0.count >= 2 }
                for delivery in received {
                    let parent = try #require(TraceParent(parsing: delivery.headers["traceparent"] ?? ""), "\(delivery.type)")
                    #expect(parent.traceId == Self.traceId)
                    #expect(parent.parentId != Self.callerSpan)
                    #expect(delivery.headers["X-Request-Id"] != nil)
                }
                let stored = try await gateway.database.read { db in
                    try db.query("SELECT trace_id FROM webhook_events").map { try $0.get(0, as: String?.self) }
                }
                #expect(!stored.isEmpty && stored.allSatisfy { $0 == Self.traceId })
            }
        } catch {
            await receiver.shutdown()
            throw error
        }
        await receiver.shutdown()
    }

    @Test func aKeyRefusedFromTheHeadIsNamedButNeverShown() async throws {
        let logs = LogCapture()
        try await withGateway(logSink: logs.sink) { gateway in
            let reader = try await gateway.makeKey([.read])
            let refused = try await gateway.call(.post, Self.path, json: Self.addVertical, key: reader)
            #expect(refused.status == 403)
            #expect(!logs.all.contains { $0.contains(reader) || $0.contains(String(reader.suffix(20))) })
        }
        let access = Self.lines(logs).filter { $0["msg"] == .string("request") && $0["status"] == .number(403) }
        #expect(access.count == 1)
        #expect(access.first?["api_key_id"]?.stringValue?.isEmpty == false)
        #expect(access.first?["bytes_in"] == .number(0), "the body is never read")
        #expect(access.first?["trace_id"] != nil)
    }

    @Test func theAccessLogTakesTheForwardedClientOnlyFromATrustedProxy() async throws {
        for (trusted, expected) in [("127.0.0.0/8", "198.51.100.7"), ("10.0.0.0/8", "127.0.0.1"), ("", "127.0.0.1")] {
            let logs = LogCapture()
            try await withGateway(logSink: logs.sink, configure: { $0.trustedProxies = try! TrustedProxies(parsing: trusted) }) { gateway in
                _ = try await gateway.call(.get, "/healthz", anonymous: true, headers: ["X-Forwarded-For": "203.0.113.1, 198.51.100.7"])
                // A refusal from the head alone (no key) is logged with the client too.
                let refused = try await gateway.call(.post, Self.path, json: "{}", anonymous: true, headers: ["Forwarded": "for=198.51.100.7"])
                #expect(refused.status == 401)
            }
            let access = Self.lines(logs).filter { $0["msg"] == .string("request") }
            #expect(access.count == 2, "\(trusted)")
            #expect(access.allSatisfy { $0["client_address"] == .string(expected) }, "\(trusted): \(access.map { $0["client_address"] ?? .null })")
        }
    }
}
