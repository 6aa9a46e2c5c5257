import Foundation
import HTTP
import JSON
import Testing
@testable import Rokt

@Suite struct RoktResponseTests {
    @Test func envelopeIsUnwrapped() throws {
        let body =
            #"{"status":200,"error":null,"message":"ok","request_id":"req-1","data":{"name":"N","blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Block"}],"domains":[],"contentHash":"h_1"}}"#
        let response = RoktResponse(status: 200, headers: ["X-Operation-Id": "op-9"], body: Array(body.utf8))
        #expect(response.requestId == "req-1")
        #expect(response.operationId == "op-9")
        let controls = try response.decode(MarketplaceControls.self)
        #expect(controls.contentHash == "h_1")
        #expect(controls.blockedVerticals.first?.pair == VerticalPair(1500, 1610))
    }

    @Test func bareBodyIsAcceptedToo() throws {
        let body = #"{"accountId":"a","status":"mixed","variants":[{"pageVariantId":"v1","status":"paused"},{"pageVariantId":"v2","status":"active"}]}"#
        let response = RoktResponse(status: 200, headers: ["X-Request-Id": "req-h"], body: Array(body.utf8))
        #expect(response.requestId == "req-h")
        let cascade = try response.decode(StatusCascade.self)
        #expect(cascade.status == .mixed)
        #expect(cascade.variants(notIn: .paused).map(\.pageVariantId) == ["v2"])
    }

    @Test func errorEnvelopeKeepsCodeMessageAndRequestId() {
        let body = #"{"status":400,"error":"unmapped_vertical","message":"vertical 1700/1600 is not mapped","request_id":"req-2","data":null}"#
        let response = RoktResponse(status: 400, headers: [:], body: Array(body.utf8))
        let error = RoktError.upstream(response)
        #expect(error.status == 400)
        #expect(error.code == "unmapped_vertical")
        #expect(error.message == "vertical 1700/1600 is not mapped")
        #expect(error.requestId == "req-2")
        #expect(!error.isRetryable)
    }

    @Test(arguments: [(500, true), (502, true), (503, true), (429, true), (408, true), (400, false), (401, false), (403, false), (404, false), (409, false), (422, false)])
    func retryabilityFollowsTheStatus(status: Int, retryable: Bool) {
        let error = RoktError.upstream(RoktResponse(status: status, headers: [:], body: []))
        #expect(error.isRetryable == retryable)
    }

    @Test func retryAfterSecondsAreRead() {
        #expect(RoktResponse(status: 503, headers: ["Retry-After": "3"], body: []).retryAfter == .seconds(3))
        #expect(RoktResponse(status: 503, headers: [:], body: []).retryAfter == nil)
    }

    @Test func malformedPayloadIsAnUpstreamContractError() {
        let response = RoktResponse(status: 200, headers: [:], body: Array("[1,2]".utf8))
        #expect(throws: RoktError.self) { try response.decode(MarketplaceControls.self) }
    }

    @Test func bodiesAreEncodedDeterministically() {
        let controls = MarketplaceControls(name: "n", blockedVerticals: [BlockedVertical(partnerVerticalId: 1, partnerSubVerticalId: 2)], domains: [], contentHash: "h")
        #expect(RoktJSON.encode(controls) == RoktJSON.encode(controls))
        #expect(String(decoding: RoktJSON.encode(StatusChange(status: .paused)), as: UTF8.self) == #"{"status":"paused"}"#)
    }
}

@Suite struct JSONValueModelTests {
    /// The hand-written conversions must agree with the Codable shapes they replace on hot paths.
    @Test func controlsRoundTripAndMatchJSONDecoder() throws {
        let text =
            #"{"name":"N \"q\"","blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Block"}],"domains":[{"domain":"a.example","policy":"Block"}],"contentHash":"h_1"}"#
        let viaCodable = try JSONDecoder().decode(MarketplaceControls.self, from: Data(text.utf8))
        let viaValue = try MarketplaceControls(json: JSONValue.parse(Array(text.utf8)))
        #expect(viaValue == viaCodable)
        #expect(try MarketplaceControls(json: JSONValue.parse(RoktJSON.encode(viaValue))) == viaValue)
        let withoutHash = MarketplaceControls(name: "n")
        #expect(String(decoding: RoktJSON.encode(withoutHash), as: UTF8.self) == #"{"blockedVerticals":[],"domains":[],"name":"n"}"#)
    }

    @Test func missingListsDefaultToEmptyAndWrongTypesAreRefused() throws {
        #expect(try MarketplaceControls(json: JSONValue.parse(Array(#"{"name":"x"}"#.utf8))).blockedVerticals.isEmpty)
        #expect(throws: JSONShapeError.self) { try MarketplaceControls(json: JSONValue.parse(Array(#"{"domains":"x"}"#.utf8))) }
        #expect(throws: JSONShapeError.self) {
            try MarketplaceControls(json: JSONValue.parse(Array(#"{"blockedVerticals":[{"partnerVerticalId":1.5,"partnerSubVerticalId":1,"policy":"Block"}]}"#.utf8)))
        }
        #expect(throws: JSONShapeError.self) { try StatusCascade(json: JSONValue.parse(Array(#"{"status":"sideways","variants":[]}"#.utf8))) }
    }

    @Test func statusCascadeMatchesJSONDecoder() throws {
        let text = #"{"accountId":"a","status":"mixed","variants":[{"pageVariantId":"v1","pageId":"p","name":"n","status":"paused"},{"pageVariantId":"v2","status":"active"}]}"#
        let viaCodable = try JSONDecoder().decode(StatusCascade.self, from: Data(text.utf8))
        #expect(try StatusCascade(json: JSONValue.parse(Array(text.utf8))) == viaCodable)
        #expect(try StatusCascade(json: viaCodable.jsonValue) == viaCodable)
    }
}
