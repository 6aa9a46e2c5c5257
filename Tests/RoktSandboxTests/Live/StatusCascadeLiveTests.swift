import Foundation
import HTTP
@testable import RoktSandbox
import Testing

@Suite struct StatusCascadeLiveTests {
    @Test func pauseCascadesToEveryVariantAndRoundTripsThroughGet() async throws {
        try await withSandbox { (live) async throws in
            let put = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            #expect(put.status == 200)
            #expect(put.data?["status"] as? String == "paused")
            #expect(variantStatuses(put.data) == ["dm1-variant-default": "paused", "dm1-variant-mobile": "paused"])
            let get = try await live.get(live.statusPath())
            #expect(get.data?["status"] as? String == "paused")
            #expect(Set(variantStatuses(get.data).values) == ["paused"])
            let resume = try await live.write(.put, live.statusPath(), #"{"status":"active"}"#)
            #expect(resume.data?["status"] as? String == "active")
            #expect(try await live.get(live.statusPath()).data?["status"] as? String == "active")
        }
    }

    @Test func variantsCarryTheDocumentedFields() async throws {
        try await withSandbox { (live) async throws in
            let get = try await live.get(live.statusPath())
            #expect(get.data?["accountId"] as? String == SandboxDemo.merchant1)
            let first = try #require((get.data?["variants"] as? [[String: Any]])?.first)
            #expect(Set(first.keys) == ["pageVariantId", "pageId", "name", "status"])
            #expect(first["name"] as? String == "Confirmation - Default")
        }
    }

    @Test func merchantThreeSteadyStateIsActiveAndListsNoArchivedVariant() async throws {
        try await withSandbox { (live) async throws in
            let get = try await live.get(live.statusPath(SandboxDemo.merchant3))
            #expect(get.data?["status"] as? String == "active")
            #expect(Set(variantStatuses(get.data).keys) == Set(SandboxDemo.merchant3ActiveVariants))
            #expect(live.sandbox.variants(of: SandboxDemo.merchant3)?.contains { $0.pageVariantId == SandboxDemo.merchant3ArchivedVariant && $0.isArchived } == true)
        }
    }

    @Test func archivedVariantIsUntouchedByCascadesEitherWay() async throws {
        try await withSandbox { (live) async throws in
            func archived() -> VariantStatus? {
                live.sandbox.variants(of: SandboxDemo.merchant3)?.first { $0.pageVariantId == SandboxDemo.merchant3ArchivedVariant }?.status
            }
            #expect(archived() == .paused)
            _ = try await live.write(.put, live.statusPath(SandboxDemo.merchant3), #"{"status":"active"}"#)
            #expect(archived() == .paused)
            _ = try await live.write(.put, live.statusPath(SandboxDemo.merchant3), #"{"status":"paused"}"#)
            let put = try await live.write(.put, live.statusPath(SandboxDemo.merchant3), #"{"status":"active"}"#)
            #expect(put.data?["status"] as? String == "active")
            #expect(archived() == .paused)
        }
    }

    @Test func stuckVariantsMakeThePutAndTheNextGetMixedUntilARetriedCascade() async throws {
        try await withSandbox { (live) async throws in
            live.sandbox.faults.leaveVariantsStuck(["dm1-variant-mobile"], of: SandboxDemo.merchant1, forNextCascades: 1)
            let put = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            #expect(put.status == 200)
            #expect(put.data?["status"] as? String == "mixed")
            #expect(variantStatuses(put.data) == ["dm1-variant-default": "paused", "dm1-variant-mobile": "active"])
            #expect(try await live.get(live.statusPath()).data?["status"] as? String == "mixed")
            // Other accounts are not affected, and the fault is spent: a retried cascade completes.
            #expect(try await live.write(.put, live.statusPath(SandboxDemo.merchant2), #"{"status":"paused"}"#).data?["status"] as? String == "paused")
            let retry = try await live.write(.put, live.statusPath(), #"{"status":"paused"}"#)
            #expect(retry.data?["status"] as? String == "paused")
            #expect(live.sandbox.faults.active.isEmpty)
        }
    }

    @Test func mixedNeverAppearsWithoutAStuckFault() async throws {
        try await withSandbox { (live) async throws in
            for account in [SandboxDemo.merchant1, SandboxDemo.merchant2, SandboxDemo.merchant3] {
                for status in ["paused", "active", "paused"] {
                    let put = try await live.write(.put, live.statusPath(account), #"{"status":"\#(status)"}"#)
                    #expect(put.data?["status"] as? String == status)
                    #expect(try await live.get(live.statusPath(account)).data?["status"] as? String == status)
                }
            }
        }
    }

    @Test func invalidStatusIs400NamingTheField() async throws {
        try await withSandbox { (live) async throws in
            let reply = try await live.write(.put, live.statusPath(), #"{"status":"mixed"}"#)
            #expect(reply.status == 400)
            #expect(reply.message.contains("status must be"))
            let extra = try await live.write(.put, live.statusPath(), #"{"status":"paused","variantId":"x"}"#)
            #expect(extra.status == 400)
            #expect(extra.message.contains("variantId"))
            #expect(live.sandbox.status(of: SandboxDemo.merchant1)?.status == .active)
        }
    }
}
