import FoundationEssentials
import Synchronization
import Testing
@testable import HTTP

/// A handler that answers with its own name, so a test can see which route ran.
private func named(_ name: String) -> HTTPHandler { { _ in HTTPResponse(body: name) } }

private func send(_ router: Router, _ method: HTTPMethod, _ target: String) async throws -> HTTPResponse {
    try await router.handle(HTTPRequest(method: method, target: target))
}

extension HTTPResponse {
    fileprivate var text: String { String(decoding: bodyBytes, as: UTF8.self) }
}

/// The members every RFC 9457 body of the router has, decoded by a real JSON parser.
private struct Problem: Decodable, Equatable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var errorId: String?
}

private func decodeProblem(_ response: HTTPResponse) throws -> Problem {
    try JSONDecoder().decode(Problem.self, from: Data(response.bodyBytes))
}

private struct SecretFailure: Error, CustomStringConvertible {
    var description: String { "database password is hunter2" }
}

private struct MerchantSuspended: HTTPResponseError {
    func response() -> HTTPResponse { .problem(.conflict, detail: "Merchant is suspended") }
}

@Suite struct RouterTests {
    static let blockedVertical = "/v1/merchants/{accountId}/controls/blocked-verticals/{partnerVerticalId}"

    // MARK: Matching

    @Test func capturesParametersPercentDecodedWithEncodedSlashKeptInside() throws {
        var router = Router()
        router.delete(Self.blockedVertical, named("unblock"))
        guard
            case .found(_, let parameters, let template, _) = router.match(
                method: .delete, path: "/v1/merchants/caf%C3%A9/controls/blocked-verticals/a%2Fb%20c")
        else { Issue.record("no match"); return }
        #expect(parameters == ["accountId": "café", "partnerVerticalId": "a/b c"])
        #expect(template == Self.blockedVertical)
    }

    @Test func handlerSeesPathParametersAndRouteTemplate() async throws {
        var router = Router()
        router.get("/v1/merchants/{accountId}/controls") { request in
            HTTPResponse(body: "\(request.pathParameters["accountId"] ?? "-") \(request.routeTemplate ?? "-")")
        }
        let response = try await send(router, .get, "/v1/merchants/acc%201/controls?verbose=1")
        #expect(response.status == .ok)
        #expect(response.text == "acc 1 /v1/merchants/{accountId}/controls")
    }

    @Test func literalSegmentBeatsParameter() async throws {
        var router = Router()
        router.get("/v1/merchants/{id}", named("by-id"))
        router.get("/v1/merchants/search", named("search"))
        #expect(try await send(router, .get, "/v1/merchants/search").text == "search")
        #expect(try await send(router, .get, "/v1/merchants/searches").text == "by-id")
    }

    @Test func parameterStillMatchesWhenTheLiteralBranchDeadEnds() async throws {
        var router = Router()
        router.get("/v1/merchants/search", named("search"))
        router.get("/v1/merchants/{id}/controls", named("controls"))
        let response = try await router.handle(HTTPRequest(method: .get, target: "/v1/merchants/search/controls"))
        #expect(response.text == "controls")
    }

    @Test func literalTemplateMatchesPercentEncodedSpellingOfTheSameText() async throws {
        var router = Router()
        router.get("/v1/café/search", named("cafe"))
        #expect(try await send(router, .get, "/v1/caf%C3%A9/%73earch").text == "cafe")
    }

    @Test func rootMatchesOnlyTheRoot() async throws {
        var router = Router()
        router.get("/", named("root"))
        #expect(try await send(router, .get, "/").text == "root")
        #expect(try await send(router, .get, "//").status == .notFound)
        #expect(try await send(router, .get, "http://example.com").text == "root")
    }

    @Test func trailingSlashIsADifferentPath() async throws {
        var router = Router()
        router.get("/v1/merchants", named("list"))
        router.get("/v1/merchants/{id}", named("one"))
        #expect(try await send(router, .get, "/v1/merchants").text == "list")
        #expect(try await send(router, .get, "/v1/merchants/").status == .notFound)  // `{id}` never captures ""
        #expect(try await send(router, .get, "/v1/merchants/m1/").status == .notFound)
        #expect(try await send(router, .get, "/v1//merchants").status == .notFound)
    }

    @Test func restParameterCapturesTheRemainingSegments() {
        var router = Router()
        router.get("/files/{path...}", named("file"))
        router.get("/files/readme", named("readme"))
        guard case .found(_, let parameters, _, _) = router.match(method: .get, path: "/files/a/b%2Fc/d%20e")
        else { Issue.record("no match"); return }
        #expect(parameters == ["path": "a/b/c/d e"])
        guard case .found(_, _, let template, _) = router.match(method: .get, path: "/files/readme")
        else { Issue.record("no match"); return }
        #expect(template == "/files/readme")
        guard case .notFound = router.match(method: .get, path: "/files/") else { Issue.record("matched /files/"); return }
        guard case .notFound = router.match(method: .get, path: "/files") else { Issue.record("matched /files"); return }
    }

    // MARK: 404, 405, 400

    @Test func unknownPathIs404ProblemWithExactBody() async throws {
        var router = Router()
        router.get("/v1/merchants", named("list"))
        let response = try await send(router, .get, "/x")
        #expect(response.status == .notFound)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.text == #"{"type":"about:blank","title":"Not Found","status":404,"detail":"No route for GET /x"}"#)
        #expect(try decodeProblem(response) == Problem(type: "about:blank", title: "Not Found", status: 404, detail: "No route for GET /x"))
    }

    @Test func knownPathWithOtherMethodIs405WithSortedAllowIncludingHead() async throws {
        var router = Router()
        router.post("/v1/merchants/{id}/controls", named("post"))
        router.get("/v1/merchants/{id}/controls", named("get"))
        router.add(.options, "/v1/merchants/{id}/controls", named("options"))
        router.delete("/v1/merchants/{id}/controls", named("delete"))
        router.put("/v1/merchants/{id}", named("put"))  // another path: not in this Allow

        let response = try await send(router, .patch, "/v1/merchants/m1/controls")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers.values("Allow") == ["DELETE, GET, HEAD, OPTIONS, POST"])
        #expect(response.text == #"{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"PATCH is not allowed on /v1/merchants/m1/controls"}"#)
        _ = try decodeProblem(response)
    }

    @Test func allowListsOptionsOnlyWhenRegistered() async throws {
        var router = Router()
        router.post("/v1/webhooks", named("post"))
        let response = try await send(router, .options, "/v1/webhooks")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "POST")
    }

    @Test func methodIsMatchedAcrossEveryTemplateThatFitsThePath() async throws {
        var router = Router()
        router.get("/v1/merchants/search", named("search"))
        router.delete("/v1/merchants/{id}", named("delete"))
        #expect(try await send(router, .delete, "/v1/merchants/search").text == "delete")
        let response = try await send(router, .patch, "/v1/merchants/search")
        #expect(response.headers["Allow"] == "DELETE, GET, HEAD")
    }

    @Test func headFallsBackToGetUnlessHeadIsRegistered() async throws {
        var router = Router()
        router.get("/a", named("get-a"))
        router.get("/b", named("get-b"))
        router.add(.head, "/b", named("head-b"))
        router.post("/c", named("post-c"))
        #expect(try await send(router, .head, "/a").text == "get-a")
        #expect(try await send(router, .head, "/b").text == "head-b")
        let response = try await send(router, .head, "/c")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "POST")
    }

    @Test func malformedEscapeInPathIs400WhateverTheRoutes() async throws {
        var router = Router()
        router.get("/v1/merchants/{id}", named("one"))
        for path in ["/v1/merchants/%zz", "/v1/merchants/%C3", "/nowhere/%"] {
            guard case .badRequest = router.match(method: .get, path: path) else { Issue.record("\(path) not 400"); continue }
        }
        let response = try await send(router, .get, "/v1/merchants/%E2%82")
        #expect(response.status == .badRequest)
        #expect(response.text == #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"The path contains a malformed percent-encoding"}"#)
    }

    @Test func problemDetailEscapesWhatTheClientSent() async throws {
        let router = Router()
        let response = try await send(router, .get, "/a\"b\\c\u{1}")
        #expect(response.text.contains(#""detail":"No route for GET /a\"b\\c\u0001""#))
        #expect(try decodeProblem(response).detail == "No route for GET /a\"b\\c\u{1}")
    }

    // MARK: Handler errors

    @Test func thrownErrorBecomes500WithOpaqueIdAndNoErrorText() async throws {
        let reported = Mutex<[String]>([])
        var router = Router()
        router.makeErrorId = { "err_00000000deadbeef" }
        router.errorReporter = { error, errorId, request in
            reported.withLock { $0.append("\(errorId) \(request.routeTemplate ?? "") \(error)") }
        }
        router.post("/v1/merchants/{id}/controls") { _ in throw SecretFailure() }

        let response = try await send(router, .post, "/v1/merchants/m1/controls")
        #expect(response.status == .internalServerError)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(
            response.text
                == #"{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"An unexpected error occurred (err_00000000deadbeef)","errorId":"err_00000000deadbeef"}"#
        )
        #expect(!response.text.contains("hunter2"))
        #expect(try decodeProblem(response).errorId == "err_00000000deadbeef")
        #expect(reported.withLock { $0 } == ["err_00000000deadbeef /v1/merchants/{id}/controls database password is hunter2"])
    }

    @Test func randomErrorIdIsErrPlusSixteenHexDigits() {
        let ids = (0..<50).map { _ in Router.randomErrorId() }
        for id in ids {
            #expect(id.hasPrefix("err_") && id.utf8.count == 20)
            #expect(id.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test func responseErrorRendersItself() async throws {
        var router = Router()
        router.errorReporter = { _, _, _ in Issue.record("a rendered error must not be reported") }
        router.put("/v1/merchants/{id}") { _ in throw MerchantSuspended() }
        let response = try await send(router, .put, "/v1/merchants/m1")
        #expect(response.status == .conflict)
        #expect(response.text == #"{"type":"about:blank","title":"Conflict","status":409,"detail":"Merchant is suspended"}"#)
    }

    // MARK: Body limits

    @Test func bodyLimitIsLookedUpPerRoute() {
        var router = Router()
        router.post("/v1/merchants/{id}/controls", bodyLimit: 64 * 1024, named("post"))
        router.get("/v1/merchants/{id}/controls", named("get"))
        router.put("/v1/uploads/{path...}", bodyLimit: 1 << 20, named("upload"))
        #expect(router.bodyLimit(method: .post, path: "/v1/merchants/m1/controls") == 65536)
        #expect(router.bodyLimit(method: .get, path: "/v1/merchants/m1/controls") == nil)
        #expect(router.bodyLimit(method: .put, path: "/v1/uploads/a/b") == 1_048_576)
        #expect(router.bodyLimit(method: .post, path: "/v1/nowhere") == nil)
        guard case .found(_, _, _, let limit) = router.match(method: .post, path: "/v1/merchants/m2/controls")
        else { Issue.record("no match"); return }
        #expect(limit == 65536)
    }

    // MARK: Templates

    @Test func templatesCompileIntoSegments() throws {
        #expect(try Router.parseTemplate("/") == [])
        #expect(
            try Router.parseTemplate(Self.blockedVertical) == [
                .literal("v1"), .literal("merchants"), .parameter("accountId"), .literal("controls"),
                .literal("blocked-verticals"), .parameter("partnerVerticalId"),
            ])
        #expect(try Router.parseTemplate("/files/{_path2...}") == [.literal("files"), .rest("_path2")])
    }

    @Test(arguments: [
        ("v1/x", "it must start with \"/\""),
        ("/v1/", "empty segment (double or trailing \"/\")"),
        ("/v1//x", "empty segment (double or trailing \"/\")"),
        ("/v1/{id", "segment \"{id\" must be a whole {name}"),
        ("/v1/a{id}", "literal segment \"a{id}\" contains \"{\""),
        ("/v1/a%20b", "literal segment \"a%20b\" contains \"%\""),
        ("/v1/{}", "parameter name \"\" is not an identifier"),
        ("/v1/{1d}", "parameter name \"1d\" is not an identifier"),
        ("/v1/{id}/{id}", "parameter \"id\" appears twice"),
        ("/v1/{rest...}/x", "{rest...} must be the last segment"),
    ])
    func malformedTemplateIsRejectedWithItsReason(template: String, reason: String) {
        #expect(throws: Router.MalformedTemplate(reason: reason)) { try Router.parseTemplate(template) }
    }

    @Test func registeringTheSameShapeTwiceStopsTheProcessSayingWhy() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var router = Router()
            router.get("/v1/merchants/{id}") { _ in HTTPResponse() }
            router.get("/v1/merchants/{accountId}") { _ in HTTPResponse() }
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("Route GET /v1/merchants/{accountId} conflicts with GET /v1/merchants/{id}"))
    }

    @Test func registeringAMalformedTemplateStopsTheProcessSayingWhy() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var router = Router()
            router.get("/v1/merchants/") { _ in HTTPResponse() }
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains(#"Malformed route template "/v1/merchants/": empty segment"#))
    }
}

@Suite struct RequestTargetTests {
    @Test(
        arguments: [
            ("/v1/merchants", "/v1/merchants", nil), ("/v1/a?x=1&y=2", "/v1/a", "x=1&y=2"), ("/v1/a#frag", "/v1/a", nil),
            ("/?q", "/", "q"), ("/v1/a?x=1#f", "/v1/a", "x=1"), ("http://host:8080/v1/b?z", "/v1/b", "z"), ("http://host", "/", nil),
            ("*", "*", nil),
        ] as [(String, String, String?)])
    func pathAndQueryOfEachTargetForm(target: String, path: String, query: String?) {
        let head = HTTPRequestHead(method: .get, target: target)
        #expect(head.path == path)
        #expect(head.query == query)
    }
}

/// Parameterless routes are found by an exact-path lookup first; it must agree with the trie.
@Suite struct StaticRouteLookupTests {
    @Test func staticAndParameterRoutesShareAPathAsTheTrieWould() async throws {
        var router = Router()
        router.get("/v1/merchants", named("list"))
        router.post("/v1/{collection}", named("create in collection"))
        router.get("/v1/{collection}", named("get collection"))
        router.get("/healthz", named("health"))
        #expect(try await send(router, .get, "/v1/merchants").text == "list")
        #expect(try await send(router, .post, "/v1/merchants").text == "create in collection")  // no static POST: the trie decides
        #expect(try await send(router, .get, "/v1/operations").text == "get collection")
        #expect(try await send(router, .get, "/v1/merchants?limit=2").text == "list")
        #expect(try await send(router, .head, "/healthz").status == .ok)
        #expect(try await send(router, .delete, "/healthz").status.code == 405)
        // A percent-encoded spelling of a static path still reaches it, through the trie.
        #expect(try await send(router, .get, "/v1/%6Derchants").text == "list")
    }
}
