import HTTP
import Testing
@testable import Gateway

@Suite struct CORSPolicyTests {
    let policy = try! CORSPolicy(parsing: " https://shop.example.com , http://localhost:3000/ ")

    @Test func parsesOriginsCaseInsensitivelyAndTrimsATrailingSlash() {
        #expect(policy.allows(origin: "https://SHOP.example.com"))
        #expect(policy.allows(origin: "http://localhost:3000"))
        #expect(!policy.allows(origin: "https://evil.example.com"))
        #expect(!policy.allows(origin: "http://shop.example.com"))  // another scheme is another origin
    }

    @Test(arguments: ["shop.example.com", "https://shop.example.com/path", "ftp://x", "https://user@x", "https://"])
    func refusesWhatIsNotAnOrigin(raw: String) {
        #expect(throws: CORSPolicy.Invalid.self) { try CORSPolicy(parsing: raw) }
    }

    @Test func emptyListTurnsCORSOffAndAddsNothing() throws {
        let off = try CORSPolicy(parsing: " , ")
        #expect(!off.isEnabled)
        var response = HTTPResponse(status: .ok)
        off.decorate(&response, origin: "https://shop.example.com")
        #expect(response.headers.isEmpty)
        #expect(!off.isPreflight(HTTPRequest(method: .options, target: "/x", headers: ["Origin": "https://a.b", "Access-Control-Request-Method": "POST"])))
    }

    @Test func allowedOriginGetsAllowOriginExposedHeadersAndVary() {
        var response = HTTPResponse(status: .notFound)
        policy.decorate(&response, origin: "https://shop.example.com")
        #expect(response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com")
        #expect(response.headers["Access-Control-Expose-Headers"]?.contains("Idempotent-Replayed") == true)
        #expect(response.headers["Vary"] == "Origin")
    }

    @Test func disallowedOriginGetsOnlyVary() {
        var response = HTTPResponse(status: .ok)
        policy.decorate(&response, origin: "https://evil.example.com")
        #expect(response.headers["Access-Control-Allow-Origin"] == nil)
        #expect(response.headers["Vary"] == "Origin")
    }

    @Test func preflightNeedsOptionsOriginAndRequestMethod() {
        #expect(policy.isPreflight(HTTPRequest(method: .options, target: "/x", headers: ["Origin": "https://a.b", "Access-Control-Request-Method": "POST"])))
        #expect(!policy.isPreflight(HTTPRequest(method: .options, target: "/x", headers: ["Origin": "https://a.b"])))
        #expect(!policy.isPreflight(HTTPRequest(method: .get, target: "/x", headers: ["Origin": "https://a.b", "Access-Control-Request-Method": "POST"])))
    }

    @Test func preflightAnswersMethodsHeadersAndMaxAgeForAnAllowedOrigin() {
        let response = policy.preflightResponse(origin: "https://shop.example.com", methods: [.get, .put])
        #expect(response.status.code == 204)
        #expect(response.headers["Access-Control-Allow-Methods"] == "GET, PUT")
        let allowed = Set((response.headers["Access-Control-Allow-Headers"] ?? "").split(separator: ",").map { $0.trimmingHTTPWhitespace().lowercased() })
        #expect(allowed.isSuperset(of: ["authorization", "content-type", "idempotency-key", "prefer", "if-match", "x-request-id", "rokt-session-id"]))
        #expect(response.headers["Access-Control-Max-Age"] == "600")
    }

    @Test func preflightFromAnotherOriginIs403WithoutAllowOrigin() {
        let response = policy.preflightResponse(origin: "https://evil.example.com", methods: [.get])
        #expect(response.status.code == 403)
        #expect(response.headers["Access-Control-Allow-Origin"] == nil)
        #expect(String(decoding: response.bodyBytes, as: UTF8.self).contains("cors_origin_not_allowed"))
    }

    @Test func wildcardAllowsAnyOriginByEchoingIt() throws {
        let any = try CORSPolicy(parsing: "*")
        var response = HTTPResponse(status: .ok)
        any.decorate(&response, origin: "https://whoever.example")
        #expect(response.headers["Access-Control-Allow-Origin"] == "https://whoever.example")
    }
}
