import Foundation
import HTTP
import JSON
import RoktSandbox
import Store
import Testing
@testable import Gateway

/// Webhooks end to end: the real gateway and sandbox, a real receiver on loopback (private
/// networks allowed, as a development setup would), and a retry schedule in milliseconds.
@Suite struct WebhookEndToEndTests {
    static func fastWebhooks(_ configuration: inout GatewayConfiguration) {
        configuration.allowPrivateWebhooks = true
        configuration.webhooks.schedule = WebhookRetrySchedule(delays: [.zero, .milliseconds(30), .milliseconds(30), .milliseconds(30)], jitter: 0)
    }

    static let addVertical = #"{"partnerVerticalId":1504,"partnerSubVerticalId":1604}"#

    /// Creates an endpoint for `url` and answers its document (with the secret).
    static func createEndpoint(_ gateway: GatewayHarness, url: String, events: [String]? = nil) async throws -> TestResponse {
        var body: [String: JSONValue] = ["url": .string(url), "description": .string("partner backend")]
        if let events { body["events"] = .array(events.map(JSONValue.string)) }
        return try await gateway.call(.post, "/v1/webhook-endpoints", json: JSONValue.object(body).serialized)
    }

    func withReceiver(_ body: (WebhookReceiver) async throws -> Void) async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        do { try await body(receiver) } catch {
            await receiver.shutdown(); group.shutdown(); throw error
        }
        await receiver.shutdown()
        group.shutdown()
    }

    @Test func operationEventsArriveSignedAndPythonVerifiesThem() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: Self.fastWebhooks) { gateway in
                let created = try await Self.createEndpoint(gateway, url: receiver.url)
                #expect(created.status == 201)
                let secret = try #require(created["secret"]?.stringValue)
                #expect(secret.hasPrefix("whsec_"))
                let id = try #require(created["id"]?.stringValue)
                #expect(created["events"]?.array?.count == WebhookEventType.allCases.count)
                // The secret is answered once: never by GET or list.
                let fetched = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)")
                #expect(fetched.status == 200 && fetched["secret"] == nil && !fetched.text.contains(String(secret.dropFirst(6))))
                let listed = try await gateway.call(.get, "/v1/webhook-endpoints")
                #expect(listed["data"]?.array?.count == 1 && !listed.text.contains(String(secret.dropFirst(6))))

                let write = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                #expect(write.status == 200)
                let operationId = try #require(write["id"]?.stringValue)
                let received = try await receiver.wait { $0.count >= 2 }
                #expect(Set(received.map(\.type)) == ["operation.succeeded", "controls.changed"])
                let succeeded = try #require(received.first { $0.type == "operation.succeeded" })
                #expect(succeeded.json["data"]?["operation"]?["id"]?.stringValue == operationId)
                // The operation as it ended, without its call log (the spec's WebhookOperation).
                #expect(succeeded.json["data"]?["operation"]?["state"] == .string("succeeded"))
                #expect(succeeded.json["data"]?["operation"]?["result"]?["blockedVerticals"] != nil)
                #expect(succeeded.json["data"]?["operation"]?["upstream"] == nil)
                #expect(succeeded.json["data"]?["merchantId"]?.stringValue == SandboxDemo.merchant1)
                #expect(succeeded.id == succeeded.json["id"]?.stringValue)
                #expect(succeeded.headers["Content-Type"] == "application/json")
                let changed = try #require(received.first { $0.type == "controls.changed" })
                #expect(changed.json["data"]?["controls"]?["blockedVerticals"]?.array?.isEmpty == false)
                // One merchant's events are numbered 1, 2 so a receiver can order them.
                #expect(Set(received.compactMap { $0.json["data"]?["sequence"]?.intValue }) == [1, 2])
                for message in received {
                    #expect(try await PythonVerifier.verifies(message, secret: secret))
                    #expect(try await !PythonVerifier.verifies(message, secret: "whsec_" + Digest.base64(Array(repeating: 1, count: 24))))
                }
                // The delivery log shows each attempt.
                let log = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries")
                let deliveries = try #require(log["data"]?.array)
                #expect(deliveries.count == 2)
                #expect(deliveries.allSatisfy { $0["state"]?.stringValue == "delivered" && $0["attempts"]?.array?.first?["status"]?.intValue == 200 })
                #expect(deliveries.first?["attempts"]?.array?.first?["response"]?.stringValue == "answer 200")
            }
        }
    }

    @Test func failedDeliveriesAreRetriedUntilTheReceiverAcceptsThemAndCanBeRedelivered() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: Self.fastWebhooks) { gateway in
                let created = try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])
                let id = try #require(created["id"]?.stringValue)
                receiver.answer([500, 302])  // a redirect is a failure: not followed
                let write = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                #expect(write.status == 200)
                let received = try await receiver.wait { $0.count >= 3 }
                // The filter: controls.changed is not sent to this endpoint. The retries are the same message.
                #expect(received.allSatisfy { $0.type == "operation.succeeded" })
                #expect(Set(received.map(\.id)).count == 1)
                #expect(Set(received.map(\.body)).count == 1)
                var delivery = JSONValue.null
                for _ in 0..<200 {
                    delivery = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries")["data"]?.array?.first ?? .null
                    if delivery["state"]?.stringValue == "delivered" { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(delivery["state"]?.stringValue == "delivered")
                #expect(delivery["attempts"]?.array?.map { $0["status"]?.intValue } == [500, 302, 200])
                #expect(delivery["attempts"]?.array?[1]["error"]?.stringValue == "redirects are not followed")
                #expect(delivery["attempts"]?.array?[0]["response"]?.stringValue == "answer 500")
                #expect(delivery["attempts"]?.array?.allSatisfy { $0["durationMs"]?.intValue != nil } == true)

                let deliveryId = try #require(delivery["id"]?.stringValue)
                let redelivered = try await gateway.call(.post, "/v1/webhook-deliveries/\(deliveryId)/redeliver")
                #expect(redelivered.status == 202)
                #expect(redelivered["id"]?.stringValue != deliveryId)
                let again = try await receiver.wait { $0.count >= 4 }
                #expect(again[3].id == received[0].id)
                #expect(try await gateway.call(.post, "/v1/webhook-deliveries/whd_nope/redeliver").status == 404)
            }
        }
    }

    @Test func deliveriesThatUseUpTheScheduleFail() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: Self.fastWebhooks) { gateway in
                let id = try #require(try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])["id"]?.stringValue)
                receiver.answer([], then: 500)
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                try await receiver.wait { $0.count >= 4 }
                var delivery = JSONValue.null
                for _ in 0..<200 {
                    delivery = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries")["data"]?.array?.first ?? .null
                    if delivery["state"]?.stringValue == "failed" { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(delivery["state"]?.stringValue == "failed")
                #expect(delivery["attempts"]?.array?.count == 4)
                try await Task.sleep(for: .milliseconds(150))
                #expect(receiver.received.count == 4)  // no fifth attempt
                let endpoint = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)")
                #expect(endpoint["enabled"]?.bool == true)
                #expect(endpoint["failingSince"]?.stringValue != nil)
            }
        }
    }

    @Test func attemptsRunInParallelAcrossEndpointsWithinThePerEndpointBound() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: {
                Self.fastWebhooks(&$0)
                $0.webhooks.maxConcurrentPerEndpoint = 2
            }) { gateway in
                receiver.hold(for: .milliseconds(500))
                _ = try await Self.createEndpoint(gateway, url: receiver.url + "?endpoint=a")
                _ = try await Self.createEndpoint(gateway, url: receiver.url + "?endpoint=b")
                for vertical in [1510, 1511, 1512] {  // 6 events, so 6 deliveries per endpoint
                    _ = try await gateway.call(
                        .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals",
                        json: #"{"partnerVerticalId":\#(vertical),"partnerSubVerticalId":1600}"#)
                }
                let all = try await receiver.wait(timeout: .seconds(30)) { Set($0.map { $0.target + $0.id }).count == 12 }
                #expect(Set(all.map(\.id)).count == 6)
                // Both endpoints were served at once, neither beyond its bound while its receiver hung
                // (counted by the receiver as requests overlap, so a slow machine cannot blur it).
                let most = receiver.mostInFlight
                #expect(most.byTarget.values.allSatisfy { $0 <= 2 } && most.byTarget.count == 2, "\(most)")
                #expect(most.inAll >= 2, "\(most)")
                let metrics = try await gateway.call(.get, "/metrics", anonymous: true).text
                #expect(metrics.contains("rokt_gateway_webhook_endpoints_disabled 0"))
            }
        }
    }

    @Test func aReceiverThatDoesNotAnswerInTimeIsRetried() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: {
                Self.fastWebhooks(&$0)
                $0.webhooks.timeout = .milliseconds(200)
            }) { gateway in
                let id = try #require(try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])["id"]?.stringValue)
                // Held far longer than the 200 ms timeout: a loaded machine once took 940 ms to cut a
                // 200 ms attempt, too close to a 1 s hold to tell a timeout from the receiver's answer.
                receiver.hold(for: .seconds(3))
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                try await receiver.wait { $0.count >= 1 }
                receiver.hold(for: .zero)
                var delivery = JSONValue.null
                for _ in 0..<300 {
                    delivery = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries")["data"]?.array?.first ?? .null
                    if delivery["state"]?.stringValue == "delivered" { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let attempts = try #require(delivery["attempts"]?.array)
                #expect(delivery["state"]?.stringValue == "delivered")
                #expect(attempts.first?["status"] == .null)
                #expect(attempts.first?["error"]?.stringValue?.contains("timedOut") == true)
                #expect((attempts.first?["durationMs"]?.intValue ?? 0) < 2_500)
                #expect(attempts.last?["status"]?.intValue == 200)
            }
        }
    }

    @Test func anEndpointFailingForTheWholeWindowIsDisabled() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: {
                Self.fastWebhooks(&$0)
                $0.webhooks.schedule = WebhookRetrySchedule(delays: Array(repeating: .milliseconds(40), count: 20), jitter: 0)
                $0.webhooks.disableAfter = .milliseconds(100)
            }) { gateway in
                let id = try #require(try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])["id"]?.stringValue)
                receiver.answer([], then: 503)
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                var endpoint = TestResponse(status: 0, headers: [:], body: [])
                for _ in 0..<300 {
                    endpoint = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)")
                    if endpoint["enabled"]?.bool == false { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(endpoint["enabled"]?.bool == false)
                #expect(endpoint["disabledReason"]?.stringValue?.contains("every delivery failed") == true)
                let attempts = receiver.received.count
                #expect((2..<20).contains(attempts))  // stopped before the 20 attempts the schedule allows
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.received.count == attempts)
            }
        }
    }

    @Test func goneDisablesTheEndpoint() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: Self.fastWebhooks) { gateway in
                let id = try #require(try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])["id"]?.stringValue)
                receiver.answer([410])
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                try await receiver.wait { $0.count >= 1 }
                var endpoint = TestResponse(status: 0, headers: [:], body: [])
                for _ in 0..<200 {
                    endpoint = try await gateway.call(.get, "/v1/webhook-endpoints/\(id)")
                    if endpoint["enabled"]?.bool == false { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(endpoint["enabled"]?.bool == false)
                #expect(endpoint["disabledReason"]?.stringValue?.contains("410") == true)
                // Nothing more goes to a disabled endpoint, and it cannot be redelivered to.
                _ = try await gateway.call(
                    .post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals",
                    json: #"{"partnerVerticalId":1505,"partnerSubVerticalId":1605}"#)
                try await Task.sleep(for: .milliseconds(200))
                #expect(receiver.received.count == 1)
                let deliveryId = try #require(try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries")["data"]?.array?.first?["id"]?.stringValue)
                let refused = try await gateway.call(.post, "/v1/webhook-deliveries/\(deliveryId)/redeliver")
                #expect(refused.status == 409 && refused["code"]?.stringValue == "webhook_endpoint_disabled")
            }
        }
    }

    @Test func rotatedSecretsBothSignDuringTheGracePeriod() async throws {
        try await withReceiver { receiver in
            try await withGateway(configure: Self.fastWebhooks) { gateway in
                let created = try await Self.createEndpoint(gateway, url: receiver.url, events: ["operation.succeeded"])
                let (id, old) = (try #require(created["id"]?.stringValue), try #require(created["secret"]?.stringValue))
                let rotated = try await gateway.call(.post, "/v1/webhook-endpoints/\(id)/rotate-secret")
                #expect(rotated.status == 200)
                let new = try #require(rotated["secret"]?.stringValue)
                #expect(new != old && new.hasPrefix("whsec_"))
                #expect(rotated["previousSecretExpiresAt"]?.stringValue != nil)
                _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: Self.addVertical)
                let message = try #require(try await receiver.wait { $0.count >= 1 }.first)
                #expect(message.signature.split(separator: " ").count == 2)
                #expect(try await PythonVerifier.verifies(message, secret: new))
                #expect(try await PythonVerifier.verifies(message, secret: old))
            }
        }
    }

    @Test func deleteRemovesTheEndpointAndItsLog() async throws {
        try await withGateway(configure: Self.fastWebhooks) { gateway in
            let id = try #require(try await Self.createEndpoint(gateway, url: "http://127.0.0.1:9/unused")["id"]?.stringValue)
            #expect(try await gateway.call(.delete, "/v1/webhook-endpoints/\(id)").status == 204)
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints/\(id)").status == 404)
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints/\(id)/deliveries").status == 404)
            #expect(try await gateway.call(.delete, "/v1/webhook-endpoints/\(id)").status == 404)
        }
    }

    @Test(.readsSQLiteTables) func outboxEventsCommitAndRollBackWithTheirTransaction() async throws {
        try await withGateway(configure: Self.fastWebhooks) { gateway in
            _ = try await Self.createEndpoint(gateway, url: "http://127.0.0.1:9/unused", events: ["merchant.registered"])
            let database = try gateway.database
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write { db in
                    try WebhookRecords.record(WebhookEvents.event(.merchantRegistered, merchantId: "m-rolled-back", data: [:]), at: 1, in: db)
                    throw Abort()
                }
            }
            let id = try await database.write { db in
                try WebhookRecords.record(WebhookEvents.event(.merchantRegistered, merchantId: "m-committed", data: ["merchant": .object([:])]), at: 1, in: db)
            }
            let skipped = try await database.write { db in
                try WebhookRecords.record(WebhookEvents.event(.controlsChanged, merchantId: "m-committed", data: [:]), at: 1, in: db)
            }
            #expect(id != nil && skipped == nil)  // nobody subscribed to controls.changed: nothing stored
            let merchants = try await database.read { db in
                try db.query("SELECT merchant_id FROM webhook_events").map { try $0.get(0, as: String.self) }
            }
            #expect(merchants == ["m-committed"])
        }
    }
}

/// The status events: a pause that changes the cascade, and one that leaves variants behind.
@Suite struct WebhookStatusEventTests {
    @Test func pauseSendsStatusChangedAndAStuckCascadeSendsCascadeIncomplete() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        defer { group.shutdown() }
        try await withGateway(configure: WebhookEndToEndTests.fastWebhooks) { gateway in
            _ = try await WebhookEndToEndTests.createEndpoint(
                gateway, url: receiver.url,
                events: ["merchant.status_changed", "merchant.cascade_incomplete", "operation.failed"])
            let merchant = SandboxDemo.merchant1
            #expect(try await gateway.call(.post, "/v1/merchants/\(merchant)/pause").status == 200)
            let changed = try #require(try await receiver.wait { $0.count >= 1 }.first)
            #expect(changed.type == "merchant.status_changed")
            #expect(changed.json["data"]?["status"]?["status"]?.stringValue == "paused")

            gateway.sandbox.faults.leaveVariantsStuck([SandboxDemo.merchant1Variants[1]], of: merchant, forNextCascades: 10)
            #expect(try await gateway.call(.post, "/v1/merchants/\(merchant)/resume").status == 502)
            let received = try await receiver.wait { $0.count >= 3 }
            #expect(Set(received.dropFirst().map(\.type)) == ["operation.failed", "merchant.cascade_incomplete"])
            let incomplete = try #require(received.first { $0.type == "merchant.cascade_incomplete" })
            #expect(incomplete.json["data"]?["error"]?["code"]?.stringValue == "cascade_incomplete")
            // The merchant's events are numbered in commit order.
            #expect(received.map { $0.json["data"]?["sequence"]?.intValue ?? 0 }.sorted() == [1, 2, 3])
        }
        await receiver.shutdown()
    }
}

/// Who may manage endpoints, which URLs and event types are accepted (private networks refused, the default).
@Suite struct WebhookEndpointValidationTests {
    @Test(arguments: [
        "https://127.0.0.1/hook", "https://127.1.2.3/hook", "https://[::1]/hook", "https://localhost/hook",
        "https://10.0.0.5/hook", "https://172.20.1.1/hook", "https://192.168.0.10/hook", "https://[fd00::1]/hook",
        "https://100.64.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[fe80::1]/hook",
        "https://224.0.0.1/hook", "https://[ff02::1]/hook", "https://0.0.0.0/hook", "https://[::]/hook",
        "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:169.254.169.254]/hook",
        "https://198.18.0.1/hook", "https://192.0.0.1/hook", "https://[2002:7f00:1::]/hook",
        "https://[64:ff9b:1::7f00:1]/hook", "https://[::ffff:0:7f00:1]/hook",
    ])
    func refusesURLsResolvingToNonPublicAddresses(_ url: String) async throws {
        try await withGateway { gateway in
            let response = try await WebhookEndToEndTests.createEndpoint(gateway, url: url)
            #expect(response.status == 400)
            #expect(response["code"]?.stringValue == "webhook_url_forbidden")
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints")["data"]?.array?.isEmpty == true)
        }
    }

    @Test func refusesPlainHTTPAndMalformedURLsAndUnknownEventTypes() async throws {
        try await withGateway { gateway in
            let plain = try await WebhookEndToEndTests.createEndpoint(gateway, url: "http://hooks.example.com/x")
            #expect(plain.status == 400 && plain.text.contains("https"))
            for url in ["ftp://example.com/", "https://user:pw@example.com/", "not a url"] {
                #expect(try await WebhookEndToEndTests.createEndpoint(gateway, url: url).status == 400)
            }
            let unknown = try await WebhookEndToEndTests.createEndpoint(gateway, url: "https://8.8.8.8/x", events: ["operation.succeeded", "order.shipped", "nope"])
            #expect(unknown.status == 400)
            #expect(unknown.text.contains("order.shipped") && unknown.text.contains("nope"))
            let extra = try await gateway.call(.post, "/v1/webhook-endpoints", json: #"{"url":"https://8.8.8.8/x","secret":"mine"}"#)
            #expect(extra.status == 400 && extra.text.contains("secret"))
        }
    }

    @Test func managingEndpointsNeedsTheWebhooksScopeAndAnUnrestrictedKey() async throws {
        try await withGateway { gateway in
            let reader = try await gateway.makeKey([.read, .write])
            let limited = try await gateway.makeKey([.webhooks], merchants: [SandboxDemo.merchant1])
            let hooks = try await gateway.makeKey([.webhooks])
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints", key: reader).status == 403)
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints", key: limited).status == 403)
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints", anonymous: true).status == 401)
            #expect(try await gateway.call(.get, "/v1/webhook-endpoints", key: hooks).status == 200)
        }
    }

    /// DNS can change after registration: the address is vetted again at every attempt.
    @Test(.readsSQLiteTables) func deliveryToAnEndpointNowResolvingToLoopbackIsRefusedWithoutSending() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        defer { group.shutdown() }
        try await withGateway(configure: { $0.webhooks.schedule = WebhookRetrySchedule(delays: [.zero], jitter: 0) }) { gateway in
            let endpoint = WebhookEndpoint(
                id: "we_rebound", url: receiver.url, events: nil, description: nil, secretKey: Array(repeating: 3, count: 24),
                createdAt: 1, updatedAt: 1)
            try await gateway.database.write { db in try WebhookRecords.insert(endpoint, in: db) }
            _ = try await gateway.call(.post, "/v1/merchants/\(SandboxDemo.merchant1)/controls/blocked-verticals", json: WebhookEndToEndTests.addVertical)
            var attempt = JSONValue.null
            for _ in 0..<300 {
                attempt = try await gateway.call(.get, "/v1/webhook-endpoints/we_rebound/deliveries")["data"]?.array?.first?["attempts"]?.array?.first ?? .null
                if attempt != .null { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(attempt["error"]?.stringValue?.contains("loopback") == true)
            #expect(attempt["status"] == .null)
            #expect(receiver.received.isEmpty)
        }
        await receiver.shutdown()
    }
}

/// `merchant.registered`: sent once for a new merchant, committed with its registration.
@Suite struct WebhookMerchantEventTests {
    @Test func registeringANewMerchantSendsMerchantRegisteredOnce() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let receiver = try WebhookReceiver(group: group)
        defer { group.shutdown() }
        try await withGateway(configure: WebhookEndToEndTests.fastWebhooks) { gateway in
            _ = try await WebhookEndToEndTests.createEndpoint(gateway, url: receiver.url, events: ["merchant.registered"])
            let body = #"{"externalAccountId":"hook-shop-1","name":"Hook Shop"}"#
            let first = try await gateway.call(.post, "/v1/merchants", json: body)
            #expect(first.status == 201)
            let accountId = try #require(first["merchantId"]?.stringValue)
            let event = try #require(try await receiver.wait { $0.count >= 1 }.first)
            #expect(event.type == "merchant.registered")
            #expect(event.json["data"]?["merchantId"]?.stringValue == accountId)
            #expect(event.json["data"]?["merchant"]?["externalAccountId"]?.stringValue == "hook-shop-1")
            #expect(event.json["data"]?["operationId"] == first["id"])
            // Registering the same external id again joins the first registration: no second event.
            #expect(try await gateway.call(.post, "/v1/merchants", json: body).status == 200)
            try await Task.sleep(for: .milliseconds(300))
            #expect(receiver.received.count == 1)
        }
        await receiver.shutdown()
    }
}
