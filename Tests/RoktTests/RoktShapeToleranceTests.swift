import Foundation
import HTTP
import JSON
import Testing
@testable import Rokt

/// Every Rokt answer the gateway reads, in each shape Rokt's documents leave open.
@Suite struct RoktShapeToleranceTests {
    func response(_ body: String, status: Int = 200, headers: HTTPHeaders = [:]) -> RoktResponse {
        RoktResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    func enveloped(_ data: String) -> String { #"{"status":200,"error":null,"message":"ok","request_id":"req-1","data":\#(data)}"# }

    // MARK: The account list

    static let accountA = #"{"accountId":"a-1","externalAccountId":"ext-1","name":"A","createdAt":"2026-01-01T00:00:00.000Z"}"#
    static let accountB = #"{"account_id":42,"external_account_id":"ext-2","parent_account_id":"p","x_unknown":{"deep":[1]}}"#

    @Test(
        arguments: [
            ("[\(accountA),\(accountB)]", nil),
            (#"{"accounts":[\#(accountA),\#(accountB)],"nextCursor":"c_1"}"#, "c_1"),
            (#"{"items":[\#(accountA),\#(accountB)],"next_cursor":"c_2","total":2}"#, "c_2"),
            (#"{"data":[\#(accountA),\#(accountB)],"cursor":7}"#, "7"),
            (#"{"data":{"accounts":[\#(accountA),\#(accountB)],"nextCursor":""}}"#, nil),
            (#"{"accounts":[\#(accountA),\#(accountB)],"nextCursor":null,"_links":{}}"#, nil),
        ] as [(String, String?)])
    func accountListInEveryShape(data: String, cursor: String?) throws {
        for body in [enveloped(data), data] {
            let page = try response(body, headers: ["X-Request-Id": "req-h"]).decode(RoktAccountPage.self)
            #expect(page.accounts.map(\.accountId) == ["a-1", "42"], "\(body)")
            #expect(page.accounts[1].externalAccountId == "ext-2" && page.accounts[1].parentAccountId == "p")
            #expect(page.accounts[0].name == "A" && page.accounts[0].createdAt == "2026-01-01T00:00:00.000Z")
            #expect(page.nextCursor == cursor, "\(body)")
        }
    }

    @Test(arguments: [#"{"accounts":{"a":1}}"#, #"{"total":3}"#, #"[{"name":"no id"}]"#, #"[{"accountId":true}]"#, #""accounts""#, #"{"items":[1]}"#])
    func accountListsThatAreNotListsAreRefused(data: String) {
        #expect(throws: RoktError.self) { try response(enveloped(data)).decode(RoktAccountPage.self) }
    }

    // MARK: Envelope, request id, operation id, errors

    @Test func requestIdFromTheEnvelopeEitherSpellingOrTheHeader() throws {
        #expect(response(enveloped("{}")).requestId == "req-1")
        #expect(response(#"{"status":200,"requestId":"req-2","data":{}}"#).requestId == "req-2")
        let headerOnly = response(#"{"status":200,"error":null,"message":"ok","data":{"accountId":"a"}}"#, headers: ["X-Request-Id": "req-h"])
        #expect(headerOnly.requestId == "req-h")
        #expect(try headerOnly.decode(RoktAccount.self).accountId == "a")  // still unwrapped: data with status and message
        let bare = response(#"{"accountId":"a","status":"active","variants":[]}"#, headers: ["X-Request-Id": "req-b"])
        #expect(bare.requestId == "req-b")
        #expect(try bare.decode(StatusCascade.self).accountId == "a")
        // A bare page with a `data` member is not an envelope.
        #expect(try response(#"{"data":[\#(Self.accountA)],"cursor":"c"}"#).decode(RoktAccountPage.self).nextCursor == "c")
    }

    @Test func errorsInEveryShapeKeepCodeAndMessage() {
        let object = RoktError.upstream(response(#"{"status":422,"error":{"code":"bad_vertical","message":"no such vertical"},"request_id":"r","data":null}"#, status: 422))
        #expect(object.code == "bad_vertical" && object.message == "no such vertical" && object.requestId == "r")
        let bare = RoktError.upstream(response(#"{"code":"conflict","message":"stale hash"}"#, status: 409, headers: ["X-Request-Id": "rh"]))
        #expect(bare.code == "conflict" && bare.message == "stale hash" && bare.requestId == "rh")
        let withoutData = RoktError.upstream(response(#"{"status":404,"error":"not_found","message":"gone","request_id":"r-404"}"#, status: 404, headers: ["X-Request-Id": "rh"]))
        #expect(withoutData.code == "not_found" && withoutData.message == "gone" && withoutData.requestId == "r-404")
    }

    @Test func operationInEveryShape() throws {
        let documents = [
            #"{"operationId":"op-1","status":"succeeded","result":{"accountId":"a"}}"#,
            #"{"operation_id":"op-1","state":"SUCCEEDED","result":{"account_id":"a"},"extra":1}"#,
            #"{"id":"op-1","state":"succeeded","result":{"accountId":"a"}}"#,
        ]
        for document in documents {
            for body in [enveloped(document), document] {
                let operation = try response(body).decode(RoktOperation.self)
                #expect(operation.operationId == "op-1" && operation.isFinished && operation.isSucceeded, "\(body)")
                #expect(operation.result.flatMap(RoktAccount.registered)?["accountId"] == .string("a"))
            }
        }
        #expect(try response(#"{"operationId":7,"status":"pending"}"#).decode(RoktOperation.self).operationId == "7")
        #expect(throws: RoktError.self) { try response(#"{"operationId":"x"}"#).decode(RoktOperation.self) }
        // A 202 naming its operation in the body only.
        #expect(response(enveloped(#"{"operation_id":"op-9","state":"pending"}"#), status: 202).operationId == "op-9")
        #expect(response(enveloped(#"{"operationId":"op-9"}"#), status: 202, headers: ["X-Operation-Id": "op-h"]).operationId == "op-h")
    }

    // MARK: Controls and status

    @Test func controlsInEveryShape() throws {
        let documents = [
            #"{"name":"N","blockedVerticals":[{"partnerVerticalId":1500,"partnerSubVerticalId":1610,"policy":"Block"}],"domains":[{"domain":"a.example","policy":"Block"}],"contentHash":"h_1"}"#,
            #"{"name":"N","blocked_verticals":[{"partner_vertical_id":"1500","partner_sub_vertical_id":"1610"}],"domains":["a.example"],"content_hash":"h_1","x":{}}"#,
        ]
        for document in documents {
            for body in [enveloped(document), document] {
                let controls = try response(body).decode(MarketplaceControls.self)
                #expect(controls.contentHash == "h_1" && controls.name == "N", "\(body)")
                #expect(controls.blockedVerticals == [BlockedVertical(partnerVerticalId: 1500, partnerSubVerticalId: 1610)])
                #expect(controls.domains == [BlockedDomain(domain: "a.example")])
            }
        }
        #expect(try response(#"{"contentHash":12345}"#).decode(MarketplaceControls.self).contentHash == "12345")
        for bad in [#"{"blockedVerticals":[{"partnerVerticalId":"15x","partnerSubVerticalId":1}]}"#, #"{"content_hash":[1]}"#, #"{"domains":[{"policy":"Block"}]}"#] {
            #expect(throws: RoktError.self, "\(bad)") { try response(bad).decode(MarketplaceControls.self) }
        }
    }

    @Test func statusInEveryShape() throws {
        let documents = [
            #"{"accountId":"a","status":"mixed","variants":[{"pageVariantId":"v1","pageId":"p","status":"paused"},{"pageVariantId":"v2","status":"active"}]}"#,
            #"{"account_id":"a","status":"MIXED","variants":[{"page_variant_id":"v1","page_id":"p","status":"Paused","x":1},{"page_variant_id":"v2","status":"active"}],"_links":{}}"#,
        ]
        for document in documents {
            for body in [enveloped(document), document] {
                let cascade = try response(body).decode(StatusCascade.self)
                #expect(cascade.accountId == "a" && cascade.status == .mixed, "\(body)")
                #expect(cascade.variants(notIn: .paused).map(\.pageVariantId) == ["v2"])
                #expect(cascade.variants.first?.pageId == "p")
            }
        }
        let numeric = try response(#"{"account_id":42,"status":"active","variants":[{"page_variant_id":7,"status":"active"}]}"#).decode(StatusCascade.self)
        #expect(numeric.accountId == "42" && numeric.variants.first?.pageVariantId == "7")
    }

    // MARK: Register and the single writes

    @Test func registerAnswersAreNormalisedToTheGatewaysSpelling() {
        let expected: JSONValue = .object([
            "accountId": .string("42"), "externalAccountId": .string("ext"), "parentAccountId": .null,
            "name": .string("N"), "createdAt": .null,
        ])
        for answer in [#"{"accountId":"42","externalAccountId":"ext","name":"N"}"#, #"{"account_id":42,"external_account_id":"ext","name":"N","x":1}"#] {
            #expect(RoktAccount.registered(try! JSONValue.parse(Array(answer.utf8))) == expected)
        }
        #expect(RoktAccount.registered(.object(["name": .string("no id")])) == nil)
    }

    @Test func passedThroughAnswersAreThePayloadInEitherShape() throws {
        // Layouts, pages, payout setup, privacy and deletion requests: the gateway stores Rokt's payload as the result.
        let page = #"{"page_id":"pg_1","layout_id":7,"variants":[]}"#
        #expect(try response(enveloped(page)).decode(JSONValue.self) == (try JSONValue.parse(Array(page.utf8))))
        #expect(try response(page).decode(JSONValue.self) == (try JSONValue.parse(Array(page.utf8))))
        #expect(throws: RoktError.self) { try response(#"{"status":200,"message":"ok","request_id":"r","data":null}"#).decode(JSONValue.self) }
    }

    @Test func snakeCaseNames() {
        #expect(RoktNames.snakeCase("partnerSubVerticalId") == "partner_sub_vertical_id")
        #expect(RoktNames.snakeCase("name") == "name")
        #expect(RoktNames.snakeCase("contentHash") == "content_hash")
    }
}

@Suite struct RoktPlacementsAnswerTests {
    @Test func resultAsBooleanOrBooleanString() throws {
        func result(_ text: String) throws -> Bool? { RoktPlacements.result(of: try JSONValue.parse(Array(text.utf8))) }
        #expect(try result(#"{"result":true}"#) == true)
        #expect(try result(#"{"result":"False","extra":1}"#) == false)
        #expect(try result(#"{"result":1}"#) == nil)
        #expect(try result(#"{"results":true}"#) == nil)
        #expect(try result("[true]") == nil)
    }
}
