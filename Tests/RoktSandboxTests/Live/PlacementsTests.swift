import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct PlacementsTests {
    let path = "/v1/Placements/any"
    let keys: HTTPHeaders = ["rokt-api-key": SandboxDemo.ecommerceApiKey, "rokt-tag-id": SandboxDemo.tagId]
    let sample = #"{"cartId":"1580265846172","attributes":{"eventId":"1100526195FA115A","country":"US"},"pageIdentifier":"checkout.upsell"}"#

    func errors(_ reply: Reply) -> [[String: Any]] { reply.json["errors"] as? [[String: Any]] ?? [] }

    @Test func answersTrueByDefaultAndTheConfiguredResultPerPageIdentifier() async throws {
        try await withSandbox({ $0.placementResults = ["checkout.skip": false] }) { (live) async throws in
            let yes = try await live.send(.post, path, json: sample, auth: keys)
            #expect(yes.status == 200)
            #expect(yes.json["result"] as? Bool == true)
            #expect(yes.json["status"] == nil)  // no Partnerships envelope here
            let no = try await live.send(.post, path, json: #"{"cartId":"1","pageIdentifier":"checkout.skip"}"#, auth: keys)
            #expect(no.json["result"] as? Bool == false)
        }
    }

    @Test func missingOrWrongApiKeyIs401InTheEcommerceErrorShape() async throws {
        try await withSandbox { (live) async throws in
            let missing = try await live.send(.post, path, json: sample, auth: ["rokt-tag-id": SandboxDemo.tagId])
            #expect(missing.status == 401)
            #expect(missing.json["description"] as? String == "Unauthorized")
            #expect(errors(missing).first?["code"] as? String == "MissingApiKey")
            #expect(errors(missing).first?.keys.contains("value") == true)
            let wrong = try await live.send(.post, path, json: sample, auth: ["rokt-api-key": "nope", "rokt-tag-id": SandboxDemo.tagId])
            #expect(wrong.status == 401)
            #expect(errors(wrong).first?["code"] as? String == "InvalidApiKey")
        }
    }

    @Test func wrongTagIs403AndMissingTagIs400() async throws {
        try await withSandbox { (live) async throws in
            let wrong = try await live.send(.post, path, json: sample, auth: ["rokt-api-key": SandboxDemo.ecommerceApiKey, "rokt-tag-id": "other-tag"])
            #expect(wrong.status == 403)
            #expect(errors(wrong).first?["value"] as? String == "other-tag")
            let missing = try await live.send(.post, path, json: sample, auth: ["rokt-api-key": SandboxDemo.ecommerceApiKey])
            #expect(missing.status == 400)
        }
    }

    @Test func unparsableBodyIs400AndSchemaViolationsAre422NamingTheField() async throws {
        try await withSandbox { (live) async throws in
            let garbage = try await live.send(.post, path, json: "{not json", auth: keys)
            #expect(garbage.status == 400)
            #expect(errors(garbage).first?["code"] as? String == "InvalidRequestBody")
            let noPage = try await live.send(.post, path, json: #"{"cartId":"1"}"#, auth: keys)
            #expect(noPage.status == 422)
            #expect((errors(noPage).first?["message"] as? String)?.contains("pageIdentifier") == true)
            let badAttribute = try await live.send(.post, path, json: #"{"pageIdentifier":"p","attributes":{"age":42}}"#, auth: keys)
            #expect(badAttribute.status == 422)
            #expect((errors(badAttribute).first?["message"] as? String)?.contains("attributes.age") == true)
            #expect(errors(badAttribute).first?["value"] as? Int == 42)
            let badCart = try await live.send(.post, path, json: #"{"pageIdentifier":"p","cartId":5}"#, auth: keys)
            #expect(badCart.status == 422)
            let formEncoded = try await live.send(.post, path, auth: keys, headers: ["Content-Type": "text/plain"])
            #expect(formEncoded.status == 400)
        }
    }

    @Test func injectedFaultOnPlacementsUsesTheEcommerceErrorShape() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.failNext(method: "POST", path: path, status: 504)
            let reply = try await live.send(.post, path, json: sample, auth: keys)
            #expect(reply.status == 504)
            #expect(reply.json["description"] as? String == "Gateway Timeout")
            #expect(errors(reply).first?["code"] as? String == "InjectedFault")
        }
    }
}
