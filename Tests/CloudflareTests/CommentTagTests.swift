import Cloudflare
import DNSCore
import Lab
import Testing

/// Record comments and tags: the annotations win, else the provider's default; both settle.
struct CommentTagTests {
    @Test func commentsAndTagsFollowAnnotationsThenTheDefaultAndSettle() async throws {
        try await Rig.with(provider: { $0.comment = "managed by netagent (owner home)"; $0.tags = ["owner:home"] }) { rig in
            var annotated = try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])
            annotated.providerSpecific.cloudflareRecordComment = "media server"
            annotated.providerSpecific.cloudflareTags = ["team:media"]
            let plain = try Rig.endpoint("plain.example.test", .a, ["198.18.0.11"])
            _ = try await rig.reconcile([annotated, plain])
            #expect(await rig.stored("app.example.test", "A").map { "\($0.comment ?? "-") \($0.tags)" } == [#"media server ["team:media"]"#])
            #expect(await rig.stored("plain.example.test", "A").map { "\($0.comment ?? "-") \($0.tags)" }
                == [#"managed by netagent (owner home) ["owner:home"]"#])
            let (again, _) = try await rig.reconcile([annotated, plain])
            #expect(!again.hasChanges, "\(again.changes)")

            await rig.simulator.resetLog()
            annotated.providerSpecific.cloudflareRecordComment = "jellyfin"
            let (_, report) = try await rig.reconcile([annotated, plain])
            #expect(report.updated == 1)
            #expect(await rig.stored("app.example.test", "A").map(\.comment) == ["jellyfin"])
            #expect(await rig.requests().filter(\.isBatch).count == 1)
        }
    }

    @Test func aCommentNoLongerWantedIsClearedOnceThenLeftAlone() async throws {
        try await Rig.with { rig in
            var annotated = try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])
            annotated.providerSpecific.cloudflareRecordComment = "temporary"
            annotated.providerSpecific.cloudflareTags = ["a:b"]
            _ = try await rig.reconcile([annotated])
            let plain = try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])
            let (_, cleared) = try await rig.reconcile([plain])
            #expect(cleared.updated == 1)
            #expect(await rig.stored("app.example.test", "A").map { "\($0.comment ?? "-") \($0.tags)" } == [" []"])
            let (after, _) = try await rig.reconcile([plain])
            #expect(!after.hasChanges, "\(after.changes)")
        }
    }
}
