import Foundation
import HTTP
import Rokt
import RoktSandbox
import Testing
@testable import Gateway

/// The gateway against a Rokt that shapes its answers differently where the documents are
/// silent: the real sandbox switched to each alternative, the real gateway over sockets.
@Suite struct UpstreamShapesEndToEndTests {
    static let shapes: [String: SandboxResponseShapes] = {
        var table: [String: SandboxResponseShapes] = ["standard": .standard, "alternative": .alternative]
        for list in SandboxResponseShapes.AccountList.allCases where list != .paginated {
            var shapes = SandboxResponseShapes.standard
            shapes.accountList = list
            table["accountList=\(list.rawValue)"] = shapes
        }
        for envelope in SandboxResponseShapes.Envelope.allCases where envelope != .standard {
            var shapes = SandboxResponseShapes.standard
            shapes.envelope = envelope
            table["envelope=\(envelope.rawValue)"] = shapes
        }
        var shapes = SandboxResponseShapes.standard
        shapes.memberNames = .snakeCase
        table["memberNames=snake_case"] = shapes
        shapes = .standard
        shapes.numbersAsStrings = true
        table["numbersAsStrings"] = shapes
        shapes = .standard
        shapes.idsAsNumbers = true
        table["idsAsNumbers"] = shapes
        shapes = .standard
        shapes.unknownMembers = true
        table["unknownMembers"] = shapes
        return table
    }()

    @Test(arguments: shapes.keys.sorted())
    func listRegisterControlsAndStatusWork(shape: String) async throws {
        try await withGateway { gateway in
            gateway.sandbox.responseShapes = Self.shapes[shape]!
            let m1 = SandboxDemo.merchant1

            // List.
            let list = try await gateway.call(.get, "/v1/merchants")
            #expect(list.status == 200, "\(shape): \(list.text)")
            let listed = list["data"]?.array?.compactMap { $0["accountId"]?.stringValue } ?? []
            #expect(listed.contains(m1), "\(shape)")

            // Register, then find the new merchant in the list and use it.
            let external = "shape-\(shape.replacingOccurrences(of: "=", with: "-").replacingOccurrences(of: "_", with: "-"))"
            let registered = try await gateway.call(.post, "/v1/merchants", json: #"{"externalAccountId":"\#(external)","name":"Shape Shop"}"#)
            #expect(registered.status == 201, "\(shape): \(registered.text)")
            let merchantId = try #require(registered["merchantId"]?.stringValue, "\(shape): \(registered.text)")
            #expect(registered["result"]?["accountId"]?.stringValue == merchantId)
            #expect(registered["result"]?["externalAccountId"]?.stringValue == external)
            let again = try await gateway.call(.get, "/v1/merchants?limit=100")
            let found = again["data"]?.array?.first { $0["accountId"]?.stringValue == merchantId }
            #expect(found?["externalAccountId"]?.stringValue == external, "\(shape): \(again.text)")
            #expect(try await gateway.call(.get, "/v1/merchants/\(merchantId)/status").status == 200, "\(shape)")

            // Controls: read (with its version), add a block, replace under If-Match.
            // demo-merchant-2 has blocked verticals and a domain to read.
            let read = try await gateway.call(.get, "/v1/merchants/\(SandboxDemo.merchant2)/controls")
            #expect(read.status == 200, "\(shape): \(read.text)")
            let seeded = try #require(gateway.sandbox.controls(of: SandboxDemo.merchant2))
            #expect(!seeded.blockedVerticals.isEmpty && !seeded.domains.isEmpty)
            let readPairs =
                read["blockedVerticals"]?.array?.compactMap { item in
                    item["partnerVerticalId"]?.int.flatMap { vertical in item["partnerSubVerticalId"]?.int.map { "\(vertical)/\($0)" } }
                } ?? []
            #expect(Set(readPairs) == Set(seeded.blockedVerticals.map { "\($0.partnerVerticalId)/\($0.partnerSubVerticalId)" }), "\(shape): \(read.text)")
            #expect(read["blockedDomains"]?.array?.compactMap(\.stringValue).sorted() == seeded.domains.map(\.domain).sorted(), "\(shape)")
            let added = try await gateway.call(.post, "/v1/merchants/\(m1)/controls/blocked-verticals", json: #"{"partnerVerticalId":1555,"partnerSubVerticalId":1655}"#)
            #expect(added.status == 200 && added["state"]?.stringValue == "succeeded", "\(shape): \(added.text)")
            #expect(gateway.sandbox.controls(of: m1)?.blockedVerticals.contains { $0.partnerVerticalId == 1555 } == true)
            let fresh = try await gateway.call(.get, "/v1/merchants/\(m1)/controls")
            let etag = try #require(fresh.headers["ETag"], "\(shape)")
            #expect(etag.contains(gateway.sandbox.controls(of: m1)?.contentHash ?? "-"))
            let replaced = try await gateway.call(
                .put, "/v1/merchants/\(m1)/controls", json: #"{"blockedVerticals":[{"partnerVerticalId":1556,"partnerSubVerticalId":1656}],"blockedDomains":["shape.example"]}"#,
                headers: ["If-Match": etag])
            #expect(replaced.status == 200 && replaced["state"]?.stringValue == "succeeded", "\(shape): \(replaced.text)")
            #expect(gateway.sandbox.controls(of: m1)?.domains.map(\.domain) == ["shape.example"])

            // Status: pause, read back.
            let paused = try await gateway.call(.post, "/v1/merchants/\(m1)/pause")
            #expect(paused.status == 200 && paused["state"]?.stringValue == "succeeded", "\(shape): \(paused.text)")
            let status = try await gateway.call(.get, "/v1/merchants/\(m1)/status")
            #expect(status["status"]?.stringValue == "paused", "\(shape): \(status.text)")
            #expect(status["variants"]?.array?.isEmpty == false)
        }
    }
}
