import Foundation
import HTTP
@testable import RoktSandbox
import Testing

/// Layouts, pages, payout setup and privacy requests.
@Suite struct SurfacesTests {
    let layoutPath = "/v1/partnership/accounts/demo-merchant-1/layouts/\(SandboxDemo.merchant1Layout)"

    @Test func layoutPatchChangesOnlyTheGivenTokens() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.patch, layoutPath, ##"{"primaryColor":"#FF0000","borderRadius":4}"##)
            #expect(reply.status == 200)
            #expect(reply.data?["primaryColor"] as? String == "#FF0000")
            #expect(reply.data?["borderRadius"] as? Double == 4)
            #expect(reply.data?["textColor"] as? String == ThemeTokens.standard.textColor)
            #expect(reply.operationId != nil)
            let theme = live.sandbox.layout(SandboxDemo.merchant1Layout, of: SandboxDemo.merchant1)?.theme
            #expect(theme?.primaryColor == "#FF0000" && theme?.borderRadius == 4)
            #expect(theme?.backgroundColor == ThemeTokens.standard.backgroundColor)
        }
    }

    @Test func layoutPatchRefusesOtherFieldsAndEmptyBodies() async throws {
        try await withSandbox { (live) async throws in
            let other = try await live.write(.patch, layoutPath, ##"{"primaryColor":"#FF0000","logoUrl":"https://x.example.com/l.png"}"##)
            #expect(other.status == 400)
            #expect(other.message.contains("logoUrl"))
            #expect(try await live.write(.patch, layoutPath, "{}").status == 400)
            #expect(live.sandbox.layout(SandboxDemo.merchant1Layout, of: SandboxDemo.merchant1)?.theme == .standard)
        }
    }

    @Test func unknownLayoutOrAnotherAccountsLayoutIs404() async throws {
        try await withSandbox { (live) async throws in
            let unknown = try await live.write(.patch, "/v1/partnership/accounts/demo-merchant-1/layouts/nope", ##"{"textColor":"#000000"}"##)
            #expect(unknown.status == 404)
            #expect(unknown.error == "not_found")
            let foreign = try await live.write(
                .patch, "/v1/partnership/accounts/demo-merchant-1/layouts/\(SandboxDemo.otherMerchantLayout)", ##"{"textColor":"#000000"}"##)
            #expect(foreign.status == 404)
        }
    }

    @Test func newPageAddsASurfaceWithOneActiveVariantAndAnEditableLayout() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/pages", #"{"type":"tracking","name":"Order tracking"}"#)
            #expect(reply.status == 201)
            #expect(reply.data?["type"] as? String == "tracking")
            #expect(reply.data?["name"] as? String == "Order tracking")
            let variants = try #require(reply.data?["variants"] as? [[String: Any]])
            #expect(variants.count == 1)
            #expect(variants.first?["status"] as? String == "active")
            let status = try await live.get(live.statusPath())
            #expect(variantStatuses(status.data).count == 3)
            #expect(status.data?["status"] as? String == "active")
            let layoutId = try #require(reply.data?["layoutId"] as? String)
            let patch = try await live.write(.patch, "/v1/partnership/accounts/demo-merchant-1/layouts/\(layoutId)", ##"{"textColor":"#111111"}"##)
            #expect(patch.status == 200)
        }
    }

    @Test func newPageOnAPausedAccountStartsPausedSoTheAccountStaysPaused() async throws {
        try await withSandbox { (live) async throws in
            _ = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            let reply = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/pages", #"{"type":"returns"}"#)
            #expect((reply.data?["variants"] as? [[String: Any]])?.first?["status"] as? String == "paused")
            #expect(try await live.get(live.statusPath()).data?["status"] as? String == "paused")
        }
    }

    @Test func pageTypeOutsideTheThreeSurfacesIs400() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/pages", #"{"type":"checkout"}"#)
            #expect(reply.status == 400)
            #expect(reply.message.contains("type"))
            #expect(live.sandbox.account(SandboxDemo.merchant1)?.pages.count == 1)
        }
    }

    @Test func payoutSetupReturnsAStripeConnectOnboardingURLForOneStripeAccount() async throws {
        try await withSandbox { (live) async throws in
            let first = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/payout-setup", #"{"returnUrl":"https://partner.example.com/done"}"#)
            #expect(first.status == 200)
            let url = try #require(first.data?["onboardingUrl"] as? String)
            #expect(url.hasPrefix("https://connect.stripe.com/"))
            #expect(first.operationId != nil)
            let second = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/payout-setup", nil)
            #expect(second.data?["stripeAccountId"] as? String == first.data?["stripeAccountId"] as? String)
            #expect(second.data?["onboardingUrl"] as? String != url)
            #expect(try await live.write(.post, "/v1/partnership/accounts/demo-merchant-1/payout-setup", #"{"returnUrl":"ftp://x"}"#).status == 400)
        }
    }

    @Test func networkPrivacyRequestValidatesIdentifierTypes() async throws {
        try await withSandbox { (live) async throws in
            let path = "/v1/partnership/network-privacy-requests"
            let ok = try await live.write(
                .post, path, #"{"requestType":"opt_out","identifiers":[{"type":"email","value":"jo@shop.example.com"},{"type":"phone","value":"+61400000000"}]}"#)
            #expect(ok.status == 201)
            #expect(ok.data?["status"] as? String == "received")
            #expect(ok.data?["identifierTypes"] as? [String] == ["email", "phone"])
            #expect(ok.operationId != nil)
            let bad = try await live.write(.post, path, #"{"requestType":"deletion","identifiers":[{"type":"ip_address","value":"1.2.3.4"}]}"#)
            #expect(bad.status == 400)
            #expect(bad.message.contains("identifiers[0].type"))
            #expect(try await live.send(.post, path, json: "{}", key: "k", auth: [:]).status == 401)
        }
    }

    @Test func dataDeletionRequestIsAcceptedForOwnMerchantsOnly() async throws {
        try await withSandbox { (live) async throws in
            let ok = try await live.write(.post, "/v1/partnership/accounts/demo-merchant-2/data-deletion-requests", #"{"reason":"merchant offboarded"}"#)
            #expect(ok.status == 201)
            #expect(ok.data?["accountId"] as? String == SandboxDemo.merchant2)
            #expect(ok.data?["status"] as? String == "received")
            let foreign = try await live.write(.post, "/v1/partnership/accounts/other-merchant-1/data-deletion-requests", nil)
            #expect(foreign.status == 403)
        }
    }
}
