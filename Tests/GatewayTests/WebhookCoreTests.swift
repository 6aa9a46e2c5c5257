import Foundation
import HTTP
import Testing
@testable import Gateway

/// The pure parts of webhooks: signatures, the SSRF address classifier, the retry schedule and
/// the delivery decision. No sockets, no clock.
struct WebhookSignatureTests {
    // The example of the Standard Webhooks reference libraries (an independent implementation's vector).
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let key = [UInt8](Data(base64Encoded: String(secret.dropFirst(6)))!)

    @Test func signatureMatchesTheStandardWebhooksReferenceVector() {
        let signature = WebhookSignature.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
            body: Array(#"{"test": 2432232314}"#.utf8), key: Self.key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func headerCarriesOneSignaturePerKeyAndEachVerifies() {
        let other = Array(repeating: UInt8(7), count: 24)
        let body = Array(#"{"a":1}"#.utf8)
        let header = WebhookSignature.header(id: "evt_1", timestamp: 10, body: body, keys: [Self.key, other])
        #expect(header.split(separator: " ").count == 2)
        #expect(WebhookSignature.verify(header: header, id: "evt_1", timestamp: 10, body: body, key: Self.key))
        #expect(WebhookSignature.verify(header: header, id: "evt_1", timestamp: 10, body: body, key: other))
        #expect(!WebhookSignature.verify(header: header, id: "evt_1", timestamp: 11, body: body, key: Self.key))
        #expect(!WebhookSignature.verify(header: header, id: "evt_1", timestamp: 10, body: Array(#"{"a":2}"#.utf8), key: Self.key))
        #expect(!WebhookSignature.verify(header: header, id: "evt_1", timestamp: 10, body: body, key: Array(repeating: 1, count: 24)))
    }

    @Test func secretsAreWhsecAndBase64OfTwentyFourRandomBytes() {
        let key = WebhookSignature.newSecretKey()
        #expect(key.count == 24)
        #expect(key != WebhookSignature.newSecretKey())
        let shown = WebhookSignature.display(key)
        #expect(shown.hasPrefix("whsec_"))
        #expect([UInt8](Data(base64Encoded: String(shown.dropFirst(6)))!) == key)
    }

    @Test func base64MatchesFoundationForEveryTailLength() {
        for count in 0..<8 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 97 + 250) }
            #expect(Digest.base64(bytes) == Data(bytes).base64EncodedString())
        }
    }
}

struct NetworkAddressClassTests {
    static func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }
    static func v6(_ text: String) -> [UInt8] {
        var address = in6_addr()
        #expect(inet_pton(AF_INET6, text, &address) == 1)
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    @Test(arguments: [
        ("127.0.0.1", NetworkAddressClass.loopback), ("127.255.0.9", .loopback),
        ("10.0.0.1", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
        ("0.0.0.0", .unspecified), ("255.255.255.255", .reserved), ("240.0.0.1", .reserved),
        ("8.8.8.8", .global), ("172.32.0.1", .global), ("172.15.255.255", .global), ("100.128.0.1", .global), ("100.63.255.255", .global),
        ("169.253.1.1", .global), ("192.169.0.1", .global),
    ])
    func classifiesIPv4(_ address: String, _ expected: NetworkAddressClass) {
        #expect(NetworkAddressClass.classify(Self.v4(address)) == expected)
    }

    @Test(arguments: [
        ("::1", NetworkAddressClass.loopback), ("::", .unspecified),
        ("fc00::1", .private), ("fd12:3456::1", .private), ("fec0::1", .private),
        ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("ff02::1", .multicast),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.1.2.3", .private), ("::ffff:169.254.169.254", .linkLocal),
        ("::ffff:100.64.1.1", .sharedAddressSpace), ("::ffff:8.8.8.8", .global),
        ("::127.0.0.1", .loopback), ("64:ff9b::a9fe:a9fe", .linkLocal),
        ("2001:4860:4860::8888", .global), ("2606:4700::1111", .global),
    ])
    func classifiesIPv6(_ address: String, _ expected: NetworkAddressClass) {
        #expect(NetworkAddressClass.classify(Self.v6(address)) == expected)
    }

    @Test func onlyGlobalAddressesHaveNoRefusal() {
        #expect(NetworkAddressClass.global.refusal == nil)
        for kind in NetworkAddressClass.allCases where kind != .global {
            #expect(kind.refusal != nil)
        }
        #expect(NetworkAddressClass.classify([1, 2, 3]) == .reserved)
    }
}

struct WebhookRetryScheduleTests {
    @Test func defaultTextParsesToTheDefaultSchedule() throws {
        let parsed = try WebhookRetrySchedule(parsing: "0s,5s,5m,30m,2h,5h,10h,10h")
        #expect(parsed == WebhookRetrySchedule.default)
        #expect(parsed.maxAttempts == 8)
    }

    @Test func parsesMillisecondsForTests() throws {
        #expect(try WebhookRetrySchedule(parsing: "0ms, 20ms,1s").delays == [.zero, .milliseconds(20), .seconds(1)])
    }

    @Test(arguments: ["", "5", "5x", "-1s", "1s,,2s", "8d", "1.5s"])
    func refusesMalformedSchedules(_ text: String) {
        #expect(throws: WebhookRetrySchedule.ScheduleError.self) { try WebhookRetrySchedule(parsing: text) }
    }

    @Test func delaysFollowTheScheduleWithinTheJitterAndStopWhenUsedUp() {
        var random = SystemRandomNumberGenerator()
        let exact = WebhookRetrySchedule(delays: [.zero, .seconds(5), .seconds(300)], jitter: 0)
        #expect(exact.delay(afterAttempts: 1, using: &random) == .seconds(5))
        #expect(exact.delay(afterAttempts: 2, using: &random) == .seconds(300))
        #expect(exact.delay(afterAttempts: 3, using: &random) == nil)
        let jittered = WebhookRetrySchedule(delays: [.zero, .seconds(100)], jitter: 0.2)
        var seen = Set<Int64>()
        for _ in 0..<200 {
            let delay = jittered.delay(afterAttempts: 1, using: &random)!.milliseconds
            #expect((80_000...120_000).contains(delay))
            seen.insert(delay)
        }
        #expect(seen.count > 10)  // really spread
    }
}

struct DeliveryDecisionTests {
    static let schedule = WebhookRetrySchedule(delays: [.zero, .seconds(5), .seconds(60)], jitter: 0)
    static let day: Duration = .seconds(86_400)

    func decide(_ status: Int?, attempts: Int, now: Int64 = 1_000_000, failingSince: Int64? = nil) -> DeliveryDecision {
        var random = SystemRandomNumberGenerator()
        return DeliveryDecision.decide(
            status: status, attempts: attempts, now: now, failingSince: failingSince, schedule: Self.schedule,
            disableAfter: Self.day, using: &random)
    }

    @Test func anyTwoHundredIsDeliveredAndEndsTheFailingStreak() {
        for status in [200, 201, 204, 299] {
            #expect(decide(status, attempts: 2, failingSince: 5) == DeliveryDecision(state: .delivered, nextAttemptAt: nil, failingSince: nil, disableReason: nil))
        }
    }

    @Test func failuresRetryOnTheScheduleThenFail() {
        #expect(decide(500, attempts: 1) == DeliveryDecision(state: .pending, nextAttemptAt: 1_005_000, failingSince: 1_000_000, disableReason: nil))
        #expect(decide(nil, attempts: 2, failingSince: 900_000) == DeliveryDecision(state: .pending, nextAttemptAt: 1_060_000, failingSince: 900_000, disableReason: nil))
        #expect(decide(302, attempts: 3).state == .failed)
        #expect(decide(302, attempts: 3).nextAttemptAt == nil)
    }

    @Test func goneDisablesTheEndpointAtOnce() {
        let decision = decide(410, attempts: 1)
        #expect(decision.state == .failed)
        #expect(decision.disableReason?.contains("410") == true)
    }

    @Test func failingForTheWholeWindowDisables() {
        let now: Int64 = 10 * 86_400_000
        #expect(decide(503, attempts: 1, now: now, failingSince: now - Self.day.milliseconds + 1).disableReason == nil)
        #expect(decide(503, attempts: 1, now: now, failingSince: now - Self.day.milliseconds).disableReason != nil)
    }
}
