#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import HTTP
import RoktSandbox
import Testing
@testable import Gateway

/// A write is refused from its head when its key is missing, unknown, under-scoped or for
/// another merchant: its body is never read nor buffered.
@Suite struct HeadAuthorizationTests {
    static let merchant = SandboxDemo.merchant1

    /// Every route that takes a key, with a path that reaches it.
    static let keyedRoutes: [(HTTPMethod, String)] = [
        (.get, "/v1/merchants/\(merchant)/controls"), (.put, "/v1/merchants/\(merchant)/controls"),
        (.patch, "/v1/merchants/\(merchant)/controls"), (.post, "/v1/merchants/\(merchant)/controls/blocked-verticals"),
        (.delete, "/v1/merchants/\(merchant)/controls/blocked-verticals/12"), (.post, "/v1/merchants/\(merchant)/controls/blocked-domains"),
        (.delete, "/v1/merchants/\(merchant)/controls/blocked-domains/spam.example"),
        (.get, "/v1/merchants/\(merchant)/status"), (.post, "/v1/merchants/\(merchant)/pause"), (.post, "/v1/merchants/\(merchant)/resume"),
        (.post, "/v1/merchants/\(merchant)/pages"), (.post, "/v1/merchants/\(merchant)/payout-setup"),
        (.patch, "/v1/merchants/\(merchant)/layouts/lay_1/theme"), (.post, "/v1/merchants/\(merchant)/data-deletion-requests"),
        (.post, "/v1/privacy-requests"), (.post, "/v1/merchants"), (.get, "/v1/merchants"),
        (.get, "/v1/operations"), (.get, "/v1/operations/op_1"), (.post, "/v1/placements/any"),
        (.post, "/v1/webhook-endpoints"), (.get, "/v1/webhook-endpoints"), (.get, "/v1/webhook-endpoints/we_1"),
        (.delete, "/v1/webhook-endpoints/we_1"), (.post, "/v1/webhook-endpoints/we_1/rotate-secret"),
        (.get, "/v1/webhook-endpoints/we_1/deliveries"), (.post, "/v1/webhook-deliveries/wd_1/redeliver"),
    ]

    /// Sends a head that announces `Content-Length: 1048576` and no body; returns all the gateway sends before it closes.
    static func sendHeadOnly(port: Int, _ head: String) async throws -> String {
        let connection = try PlainConnection(port: port)
        try connection.send(head)
        return try await connection.receiveAll()  // ETIMEDOUT: the gateway waited for the body
    }

    /// The head screen hands the caller it authenticated to the handler with the request: a
    /// write is authenticated once, not once from its head and again with its body.
    @Test func aScreenedWriteIsAuthenticatedOnce() async throws {
        try await withGateway { gateway in
            let keyRing = gateway.app.services.keyRing
            _ = try await gateway.call(.get, "/v1/merchants/\(Self.merchant)/controls")
            var before = keyRing.authentications
            let added = try await gateway.call(
                .post, "/v1/merchants/\(Self.merchant)/controls/blocked-domains", json: #"{"domain":"once.example.com"}"#)
            #expect(added.status < 300, "\(added.text)")
            #expect(keyRing.authentications - before == 1)
            // A read has no body: it is not screened, and its handler authenticates it, once.
            before = keyRing.authentications
            _ = try await gateway.call(.get, "/v1/merchants/\(Self.merchant)/controls")
            #expect(keyRing.authentications - before == 1)
        }
    }

    @Test func aMegabyteWriteWithABadKeyIsRefusedBeforeItsBodyIsSent() async throws {
        try await withGateway { gateway in
            let otherMerchantKey = try await gateway.makeKey([.write], merchants: ["acct_someone_else"])
            let readKey = try await gateway.makeKey([.read])
            let path = "/v1/merchants/\(Self.merchant)/controls/blocked-domains"
            let cases: [(String?, Int, String)] = [
                (nil, 401, "unauthenticated"), ("rgw_not_a_key", 401, "unauthenticated"),
                (readKey, 403, "forbidden"), (otherMerchantKey, 403, "forbidden"),
            ]
            for (key, status, code) in cases {
                let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
                let answer = try await Self.sendHeadOnly(
                    port: gateway.port,
                    "POST \(path) HTTP/1.1\r\nHost: x\r\n\(authorization)"
                        + "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(answer.prefix(60))")
                #expect(answer.contains(#""code":"\#(code)""#))
                #expect(answer.lowercased().contains("connection: close"))
                #expect(answer.contains("X-Request-Id: "))
            }
            #expect(gateway.app.server.bodyMemoryInUse == 0)
            // The refusals are counted like any answer.
            let metrics = try await gateway.call(.get, "/metrics", anonymous: true).text
            #expect(metrics.contains(#"rokt_gateway_http_requests_total{method="POST",route="/v1/merchants/{accountId}/controls/blocked-domains",status_class="4xx"} 4"#))
        }
    }

    @Test func routesWithoutAKeyAreNotScreened() async throws {
        try await withGateway { gateway in
            let router = GatewayRouter(services: gateway.services)
            for (method, path) in [
                (HTTPMethod.get, "/healthz"), (.get, "/readyz"), (.get, "/metrics"), (.get, "/openapi.yaml"),
                (.options, "/v1/merchants"), (.post, "/nowhere"),
            ] {
                #expect(router.screen(HTTPRequestHead(method: method, target: path, headers: ["Host": "x"])).refusal == nil, "\(method) \(path)")
            }
        }
    }

    /// Whatever the head check refuses, the handler refuses with the same status and body.
    @Test func theHeadCheckAnswersExactlyAsTheHandlerWould() async throws {
        try await withGateway { gateway in
            let router = GatewayRouter(services: gateway.services)
            let keys: [(name: String, key: String?)] = [
                ("none", nil), ("unknown", "rgw_not_a_key"), ("read", try await gateway.makeKey([.read])),
                ("write elsewhere", try await gateway.makeKey([.read, .write], merchants: ["acct_someone_else"])),
                ("webhooks", try await gateway.makeKey([.webhooks])),
            ]
            var refusals = 0
            for (method, path) in Self.keyedRoutes {
                for (name, key) in keys {
                    var headers: HTTPHeaders = ["Host": "x", "Content-Type": "application/json", "Idempotency-Key": "head-check-\(refusals)"]
                    if let key { headers["Authorization"] = "Bearer \(key)" }
                    let head = HTTPRequestHead(method: method, target: path, headers: headers)
                    guard let screened = router.screen(head).refusal else {
                        #expect(key != nil, "\(method) \(path) let a request without a valid key through")
                        continue
                    }
                    refusals += 1
                    let handled = try await router.handle(HTTPRequest(head: head, body: Array("{}".utf8)))
                    #expect(screened.status == handled.status, "\(method) \(path) with key \(name)")
                    #expect(screened.bodyBytes == handled.bodyBytes, "\(method) \(path) with key \(name)")
                }
            }
            // Every route refuses the missing and the unknown key, and more besides.
            #expect(refusals > 2 * Self.keyedRoutes.count)
        }
    }

    @Test func theBodyMemoryBudgetComesFromTheEnvironment() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(["HTTP_MAX_BODY_MEMORY_MB": "16"])
        #expect(configuration.server.maxBodyMemoryBytes == 16 << 20)
        #expect(GatewayConfiguration().server.maxBodyMemoryBytes == 64 << 20)
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(["HTTP_MAX_BODY_MEMORY_MB": "0"]) }
    }
}
