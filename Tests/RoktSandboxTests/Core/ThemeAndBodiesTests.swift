import JSON
@testable import RoktSandbox
import Testing

/// Layout, status, page, registration and privacy bodies, validated without sockets.
@Suite struct ThemePatchTests {
    func refusal(_ json: String) -> SandboxError? {
        do { _ = try ThemePatch.parse(try JSONValue.parseBody(Array(json.utf8))); return nil } catch { return error }
    }

    @Test func eachTokenAloneIsAValidSparseUpdate() throws {
        for json in [
            ##"{"primaryColor":"#112233"}"##, ##"{"backgroundColor":"#aabbccdd"}"##, ##"{"textColor":"#000000"}"##,
            ##"{"closeButtonColor":"#FFFFFF80"}"##, ##"{"borderRadius":0}"##, ##"{"borderRadius":12.5}"##,
        ] {
            #expect(refusal(json) == nil, "\(json)")
        }
        let patch = try ThemePatch.parse(try JSONValue.parseBody(Array(##"{"textColor":"#010203","borderRadius":4}"##.utf8)))
        let applied = patch.applied(to: .standard)
        #expect(applied.textColor == "#010203" && applied.borderRadius == 4)
        #expect(applied.primaryColor == ThemeTokens.standard.primaryColor)
    }

    @Test func anythingButTheFiveTokensIs400NamingIt() {
        let error = refusal(##"{"primaryColor":"#112233","fontFamily":"Arial"}"##)
        #expect(error?.status == 400)
        #expect(error?.message.contains("fontFamily") == true)
    }

    @Test func emptyUpdateIs400() {
        #expect(refusal("{}")?.status == 400)
        #expect(refusal("")?.status == 400)
    }

    @Test(arguments: ["#FFF", "red", "#GGGGGG", "112233", "#1122334", "#112233445"])
    func malformedColorIs400NamingTheToken(color: String) {
        let error = refusal(##"{"primaryColor":"\##(color)"}"##)
        #expect(error?.message.contains("primaryColor must be a color") == true)
    }

    @Test func borderRadiusMustBeANumberWithinBounds() {
        #expect(refusal(##"{"borderRadius":-1}"##)?.message.contains("borderRadius") == true)
        #expect(refusal(##"{"borderRadius":65}"##)?.message.contains("borderRadius") == true)
        #expect(refusal(##"{"borderRadius":"8"}"##)?.message.contains("borderRadius must be a number") == true)
        #expect(refusal(##"{"borderRadius":64}"##) == nil)
    }

    @Test func nullTokenIs400() {
        #expect(refusal(##"{"textColor":null}"##)?.message.contains("textColor cannot be null") == true)
    }
}

@Suite struct StatusAggregateTests {
    func page(_ statuses: [(VariantStatus, Bool)]) -> [Page] {
        let variants = statuses.enumerated().map {
            PageVariant(pageVariantId: "v\($0.offset)", pageId: "p", name: "V\($0.offset)", status: $0.element.0, isArchived: $0.element.1)
        }
        return [Page(pageId: "p", type: .confirmation, name: "P", variants: variants, layout: Layout(layoutId: "l", theme: .standard))]
    }

    @Test func aggregateIsComputedOverNonArchivedVariantsOnly() {
        #expect(StatusCascade(accountId: "a", pages: page([(.active, false), (.active, false)]), requested: .active).status == .active)
        #expect(StatusCascade(accountId: "a", pages: page([(.paused, false), (.paused, false)]), requested: .active).status == .paused)
        #expect(StatusCascade(accountId: "a", pages: page([(.active, false), (.paused, false)]), requested: .active).status == .mixed)
        let withArchived = StatusCascade(accountId: "a", pages: page([(.active, false), (.paused, true)]), requested: .active)
        #expect(withArchived.status == .active)
        #expect(withArchived.variants.map(\.pageVariantId) == ["v0"])
    }

    @Test func accountWithoutLiveVariantsReportsTheRequestedStatus() {
        #expect(StatusCascade(accountId: "a", pages: page([(.active, true)]), requested: .paused).status == .paused)
        #expect(StatusCascade(accountId: "a", pages: [], requested: .active).status == .active)
    }

    @Test func cascadeSkipsArchivedAndStuckVariants() {
        var pages = page([(.active, false), (.active, false), (.active, true)])
        pages.cascade(.paused, except: ["v1"])
        #expect(pages[0].variants.map(\.status) == [.paused, .active, .active])
    }

    @Test func statusBodyAcceptsOnlyActiveOrPaused() throws {
        #expect(try StatusChange.parse(try JSONValue.parseBody(Array(##"{"status":"paused"}"##.utf8))) == .paused)
        for json in [##"{"status":"mixed"}"##, ##"{"status":"PAUSED"}"##, "{}", ##"{"status":"active","force":true}"##] {
            #expect(throws: SandboxError.self) { _ = try StatusChange.parse(try JSONValue.parseBody(Array(json.utf8))) }
        }
    }
}

@Suite struct RequestBodiesTests {
    func json(_ text: String) throws(SandboxError) -> JSONValue? { try JSONValue.parseBody(Array(text.utf8)) }

    @Test func registrationUsesSnakeCaseAndRefusesCamelCase() throws {
        let registration = try Registration.parse(try json(##"{"external_account_id":"m-42","name":"Shop","country":"US"}"##))
        #expect(registration.externalAccountId == "m-42")
        do {
            _ = try Registration.parse(try json(##"{"externalAccountId":"m-42","name":"Shop"}"##))
            Issue.record("camelCase accepted")
        } catch {
            #expect(error.message.contains("external_account_id is required"))
        }
        #expect(throws: SandboxError.self) { _ = try Registration.parse(try json(##"{"external_account_id":"has space","name":"S"}"##)) }
        #expect(throws: SandboxError.self) { _ = try Registration.parse(try json(##"{"external_account_id":"a","name":"S","country":"usa"}"##)) }
    }

    @Test func privacyIdentifiersAreValidatedByType() throws {
        let sha = String(repeating: "ab", count: 32)
        let valid =
            ##"{"requestType":"deletion","identifiers":[{"type":"email","value":"a@b.example.com"},{"type":"email_sha256","value":"\##(sha)"},{"type":"phone","value":"+14155550100"},{"type":"phone_sha256","value":"\##(sha)"}]}"##
        #expect(try NetworkPrivacyRequest.parse(try json(valid)).identifiers.count == 4)
        let cases: [(String, String)] = [
            (##"{"requestType":"opt_out","identifiers":[{"type":"ssn","value":"1"}]}"##, "identifiers[0].type"),
            (##"{"requestType":"opt_out","identifiers":[{"type":"email","value":"not-an-email"}]}"##, "identifiers[0].value"),
            (##"{"requestType":"opt_out","identifiers":[{"type":"email_sha256","value":"abc"}]}"##, "identifiers[0].value"),
            (##"{"requestType":"opt_out","identifiers":[{"type":"phone","value":"4155550100"}]}"##, "identifiers[0].value"),
            (##"{"requestType":"forget","identifiers":[{"type":"email","value":"a@b.example.com"}]}"##, "requestType"),
            (##"{"requestType":"opt_out","identifiers":[]}"##, "identifiers"),
        ]
        for (body, field) in cases {
            do {
                _ = try NetworkPrivacyRequest.parse(try json(body))
                Issue.record("accepted \(body)")
            } catch {
                #expect(error.status == 400)
                #expect(error.message.contains(field), "\(error.message)")
            }
        }
    }

    @Test func pageTypeMustBeOneOfTheThreeSurfaces() throws {
        #expect(try PageRequest.parse(try json(##"{"type":"returns"}"##)).type == .returns)
        #expect(throws: SandboxError.self) { _ = try PageRequest.parse(try json(##"{"type":"checkout"}"##)) }
        #expect(throws: SandboxError.self) { _ = try PageRequest.parse(try json(##"{"name":"x"}"##)) }
    }
}
