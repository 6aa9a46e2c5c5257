#if canImport(Glibc)
    import Glibc
#endif
import ChildProcess
import Foundation
import HTTP
import RoktSandbox
import Testing
@testable import Gateway

/// `rokt-gateway keys create --publishable`, `keys list` and `keys revoke` through the real
/// executable, against a gateway process serving the same database.
@Suite struct PublishableKeyCommandTests {
    static let shop = "https://shop.example.com"

    @Test func aPublishableKeyMadeByTheCommandServesPlacementsUntilRevoked() async throws {
        let bed = try ProcessTestBed("publishable", extra: ["ROKT_ECOMMERCE_API_KEY": SandboxDemo.ecommerceApiKey, "ROKT_TAG_ID": SandboxDemo.tagId])
        var environment = bed.environment
        environment["ROKT_ECOMMERCE_BASE_URL"] = bed.sandbox.baseURL
        let gateway = try GatewayProcess(environment: environment)
        let port = try await gateway.waitForField("listening", "port")

        let create = try GatewayProcess(
            arguments: ["keys", "create", "--publishable", "--name", "checkout", "--origin", "HTTPS://Shop.Example.com/"],
            environment: environment)
        #expect(await create.waitForExit() == 0)
        let key = try #require(create.text.split(separator: "\n").last.map(String.init))
        #expect(key.hasPrefix("pk_"), "\(create.text)")
        func placements(origin: String) async throws -> Int {
            try await bed.client.execute(
                HTTPClientRequest(
                    method: .post, url: "http://127.0.0.1:\(port)/v1/placements/any",
                    headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json", "Origin": origin],
                    body: Array(#"{"pageIdentifier":"checkout.upsell"}"#.utf8))
            ).status.code
        }
        // The running gateway learns of the key within its 1 s poll.
        #expect(try await eventually { try await placements(origin: Self.shop) == 200 })
        #expect(try await placements(origin: "https://evil.example.com") == 403)

        let list = try GatewayProcess(arguments: ["keys", "list"], environment: environment)
        #expect(await list.waitForExit() == 0)
        let row = try #require(list.text.split(separator: "\n").first { $0.contains("checkout") }).split(separator: "\t").map(String.init)
        #expect(row[2] == "publishable" && row[3] == "-" && row[5] == Self.shop, "\(row)")
        #expect(list.text.split(separator: "\n").first?.contains("KIND") == true)
        #expect(!list.text.contains(key))

        let revoke = try GatewayProcess(arguments: ["keys", "revoke", row[0]], environment: environment)
        #expect(await revoke.waitForExit() == 0)
        #expect(try await eventually { try await placements(origin: Self.shop) == 401 })
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        await bed.sandbox.shutdown()
    }
}
