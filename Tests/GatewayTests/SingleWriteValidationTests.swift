import HTTP
import JSON
import Rokt
import Testing
@testable import Gateway

/// The pure parts of the single-write endpoints: body validation and identifier redaction.
@Suite struct SingleWriteValidationTests {
    static func request(_ body: String, layoutId: String = "ly_1") -> HTTPRequest {
        var request = HTTPRequest(method: .patch, target: "/", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        request.pathParameters = ["accountId": "acct_1", "layoutId": layoutId]
        return request
    }

    static func fields(_ problem: Problem) -> Set<String> { Set(problem.errors?.map(\.field) ?? []) }

    @Test func themeAcceptsBothColorLengthsAndTheRadiusBounds() throws {
        let (write, _) = try ThemeRoutes.patch(Self.request(##"{"primaryColor":"#a1B2c3","textColor":"#A1B2C3D4","borderRadius":0}"##), merchant: "acct_1")
        #expect(write.body == .object(["primaryColor": .string("#a1B2c3"), "textColor": .string("#A1B2C3D4"), "borderRadius": .number(0)]))
        #expect(write.method == "PATCH")
        #expect(write.path == "/v1/partnership/accounts/acct_1/layouts/ly_1")
        #expect(throws: Never.self) { try ThemeRoutes.patch(Self.request(#"{"borderRadius":64}"#), merchant: "m") }
    }

    @Test func themeRefusesEachBadTokenByName() {
        let cases: [(String, Set<String>)] = [
            (##"{"primaryColor":"#1234567"}"##, ["primaryColor"]),
            (##"{"backgroundColor":"123456"}"##, ["backgroundColor"]),
            (#"{"borderRadius":64.5}"#, ["borderRadius"]),
            (#"{"borderRadius":true}"#, ["borderRadius"]),
            (#"{"theme":{}}"#, ["theme"]),
            (#"{}"#, ["body"]),
        ]
        for (body, expected) in cases {
            do {
                _ = try ThemeRoutes.patch(Self.request(body), merchant: "m")
                Issue.record("accepted \(body)")
            } catch {
                #expect(Self.fields(error) == expected, "\(body)")
            }
        }
        #expect(throws: Problem.self) { try ThemeRoutes.patch(Self.request(##"{"textColor":"#000000"}"##, layoutId: ""), merchant: "m") }
    }

    @Test func identifierFormats() {
        typealias Kind = PrivacyIdentifiers.Kind
        #expect(Kind.email.accepts("a.b+c@example.co.uk"))
        #expect(!Kind.email.accepts("no-at-sign"))
        #expect(!Kind.email.accepts("a@localhost"))
        #expect(!Kind.email.accepts("a b@example.com"))
        #expect(Kind.phone.accepts("+14155550123"))
        #expect(!Kind.phone.accepts("4155550123"))
        #expect(!Kind.phone.accepts("+1234567"))
        #expect(Kind.emailSHA256.accepts(String(repeating: "aF", count: 32)))
        #expect(!Kind.phoneSHA256.accepts(String(repeating: "g", count: 64)))
    }

    @Test func redactionKeepsOnlyTheHash() {
        let body: JSONValue = .object([
            "requestType": .string("deletion"),
            "identifiers": .array([.object(["type": .string("email"), "value": .string("x@example.com")])]),
        ])
        let redacted = PrivacyIdentifiers.redacted(body)
        #expect(!(redacted?.serialized.contains("x@example.com") ?? true))
        #expect(redacted?["identifiers"]?.arrayValue?.first?["valueSha256"] == .string(Digest.sha256Hex("x@example.com")))
        #expect(redacted?["requestType"] == .string("deletion"))
    }
}
