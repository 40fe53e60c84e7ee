import Cloudflare
import DNSCore
import Lab
import Testing

/// `registry: comment` against the Cloudflare simulator: ownership in each record's comment,
/// no TXT records, and the one-run take-over from TXT ownership.
struct CommentRegistryTests {
    static func registry(_ rig: Rig, owner: String = "home", limit: Int = 100) throws -> CommentRegistry {
        try CommentRegistry(provider: rig.provider, ownerID: owner, mapper: TXTNameMapper(), maxCommentLength: limit)
    }

    static func reconcile(_ desired: [Endpoint], _ registry: CommentRegistry) async throws -> (plan: Plan, report: ApplyReport) {
        try await PlanningRun().reconcile(desired: desired, registry: registry)
    }

    /// A record made by hand in the dashboard.
    static func manual(_ rig: Rig, _ name: String, _ type: String, _ content: String, comment: String? = nil) async {
        await rig.simulator.insert(SimulatedDNSRecord(name: name, type: type, content: content, comment: comment), zoneID: rig.zoneID)
    }

    @Test func convergesWithoutTXTThenIdlesAndLeavesForeignRecordsAlone() async throws {
        try await Rig.with { rig in
            let registry = try Self.registry(rig)
            await Self.manual(rig, "hand.example.test", "A", "198.18.0.50")
            await Self.manual(rig, "other.example.test", "A", "198.18.0.51", comment: "heritage=netagent,owner=lab2,kind=crd")
            await Self.manual(rig, "lookalike.example.test", "A", "198.18.0.52", comment: "heritage=netagent,owner=home trailing words")
            let foreignBefore = await rig.lines()
            let desired = [
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10", "198.18.0.11"]),
                try Rig.endpoint("www.example.test", .cname, ["app.example.test"], resource: "crd/default/www"),
                // Claims on names that hold foreign records: conflicts, never writes.
                try Rig.endpoint("other.example.test", .a, ["198.18.0.99"]),
                try Rig.endpoint("lookalike.example.test", .a, ["198.18.0.99"]),
            ]
            let (plan, report) = try await Self.reconcile(desired, registry)
            #expect(report.created == 2 && report.isComplete, "\(report)")
            #expect(plan.conflicts.map(\.key.name.text).sorted() == ["lookalike.example.test", "other.example.test"])
            #expect(await rig.simulator.records(zoneID: rig.zoneID).allSatisfy { $0.type != "TXT" })
            #expect(await rig.stored("app.example.test", "A").map(\.comment) == Array(repeating: "heritage=netagent,owner=home,kind=httproute", count: 2))
            #expect(await rig.stored("www.example.test", "CNAME").map(\.comment) == ["heritage=netagent,owner=home,kind=crd"])

            await rig.simulator.resetLog()
            let (idle, idleReport) = try await Self.reconcile(desired, registry)
            #expect(!idle.hasChanges, "\(idle.changes)")
            #expect(idleReport == ApplyReport())
            #expect(await rig.requests().filter(\.isWrite).isEmpty)

            // Sync with nothing desired deletes only what carries this owner's marker.
            let (_, emptied) = try await PlanningRun(deleteGuard: DeleteGuard(forceDeletes: true)).reconcile(desired: [], registry: registry)
            #expect(emptied.deleted == 2 && emptied.isComplete)
            #expect(await rig.lines() == foreignBefore)
        }
    }

    @Test func theUsersCommentIsKeptWithTheMarkerAppendedAndAnEditedAwayMarkerMakesTheRecordForeign() async throws {
        try await Rig.with { rig in
            let registry = try Self.registry(rig)
            var media = try Rig.endpoint("media.example.test", .a, ["198.18.0.20"])
            media.providerSpecific.cloudflareRecordComment = "jellyfin, ask Sam"
            _ = try await Self.reconcile([media], registry)
            #expect(await rig.stored("media.example.test", "A").map(\.comment) == ["jellyfin, ask Sam heritage=netagent,owner=home,kind=httproute"])
            let (again, _) = try await Self.reconcile([media], registry)
            #expect(!again.hasChanges, "\(again.changes)")

            media.providerSpecific.cloudflareRecordComment = "jellyfin"
            let (_, edited) = try await Self.reconcile([media], registry)
            #expect(edited.updated == 1)
            #expect(await rig.stored("media.example.test", "A").map(\.comment) == ["jellyfin heritage=netagent,owner=home,kind=httproute"])

            // Someone rewrites the comment in the dashboard and the marker is gone: no longer ours.
            let stored = try #require(await rig.stored("media.example.test", "A").first)
            await rig.simulator.remove(recordID: stored.id, zoneID: rig.zoneID)
            var handEdited = stored
            handEdited.comment = "jellyfin (moved to the NAS)"
            await rig.simulator.insert(handEdited, zoneID: rig.zoneID)
            let (plan, report) = try await PlanningRun(deleteGuard: DeleteGuard(forceDeletes: true)).reconcile(desired: [], registry: registry)
            #expect(plan.changes.isEmpty && report == ApplyReport())
            #expect(await rig.stored("media.example.test", "A").map(\.comment) == ["jellyfin (moved to the NAS)"])
        }
    }

    @Test func aCommentThatCannotFitWithTheMarkerIsRefusedByName() async throws {
        try await Rig.with { rig in
            let registry = try Self.registry(rig)
            var long = try Rig.endpoint("long.example.test", .a, ["198.18.0.30"])
            long.providerSpecific.cloudflareRecordComment = String(repeating: "x", count: 70)
            let fine = try Rig.endpoint("fine.example.test", .a, ["198.18.0.31"])
            let (_, report) = try await Self.reconcile([long, fine], registry)
            #expect(report.created == 1)
            let failure = try #require(report.failures.first)
            #expect(report.failures.count == 1 && failure.key.name.text == "long.example.test")
            #expect(failure.message.contains("CommentTooLong") && failure.message.contains("more than the 100 allowed"), "\(failure.message)")
            #expect(await rig.stored("long.example.test", "A").isEmpty)

            // Set for a paid plan's 500 on a Free zone, the comment goes out and Cloudflare refuses it (9313).
            let paid = try Self.registry(rig, limit: 500)
            let (_, paidReport) = try await Self.reconcile([long, fine], paid)
            #expect(paidReport.created == 0 && paidReport.failures.map(\.key.name.text) == ["long.example.test"])
            #expect(paidReport.failures.first?.message.contains("9313") == true, "\(paidReport)")
            let (_, raw) = try await rig.reconcile([try Self.annotated("raw.example.test", String(repeating: "y", count: 101))])
            #expect(raw.failures.contains { $0.message.contains("9313") }, "\(raw)")
        }
    }

    @Test func aTXTRecordCannotBeOwnedByAComment() async throws {
        try await Rig.with { rig in
            let registry = try Self.registry(rig)
            let txt = try Rig.endpoint("note.example.test", .txt, ["hello"])
            let managed = PlanFilters(managedTypes: [.a, .aaaa, .cname, .txt])
            let (_, report) = try await PlanningRun(filters: managed).reconcile(desired: [txt], registry: registry)
            #expect(await rig.stored("note.example.test", "TXT").isEmpty)
            #expect(report.created == 0 && report.failures.first?.message.contains("use registry: txt") == true)
            #expect(throws: CommentRegistryError.self) { try Self.registry(rig, owner: "my home") }
        }
    }

    /// TXT ownership (what external-dns or netagent's `registry: txt` wrote) becomes comment
    /// ownership in one run: the records are edited in place, never deleted and created again,
    /// then the ownership TXT records go; the next run writes nothing.
    @Test func takeOverFromTXTOwnershipInOneRunWithoutRecreatingARecord() async throws {
        try await Rig.with(owner: "home") { rig in
            var media = try Rig.endpoint("media.example.test", .a, ["198.18.0.20"])
            media.providerSpecific.cloudflareRecordComment = "jellyfin"
            let desired = [
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10", "198.18.0.11"]),
                try Rig.endpoint("app.example.test", .aaaa, ["2001:db8::10"]),
                try Rig.endpoint("www.example.test", .cname, ["app.example.test"], resource: "crd/default/www"),
                media,
            ]
            let (_, txtReport) = try await rig.reconcile(desired)
            #expect(txtReport.isComplete && txtReport.created == 8)
            // Another owner's record and its ownership TXT, and a plain TXT record: never touched.
            await Self.manual(rig, "theirs.example.test", "A", "198.18.0.60")
            await Self.manual(rig, "a-theirs.example.test", "TXT", "\"heritage=external-dns,external-dns/owner=lab2\"")
            await Self.manual(rig, "example.test", "TXT", "v=spf1 -all")
            let idsBefore = Set(await rig.simulator.records(zoneID: rig.zoneID).filter { $0.type != "TXT" }.map(\.id))
            let writesBefore = await rig.simulator.writes(zoneID: rig.zoneID).count

            let registry = try Self.registry(rig)
            await rig.simulator.resetLog()
            let (plan, report) = try await Self.reconcile(desired, registry)
            #expect(plan.changes.isEmpty, "the desired records already hold: \(plan.changes)")
            #expect(report.isComplete, "\(report)")
            let writes = Array(await rig.simulator.writes(zoneID: rig.zoneID).dropFirst(writesBefore))
            let byKind = Dictionary(grouping: writes) { "\($0.action) \($0.type)" }.mapValues(\.count)
            #expect(byKind == ["patch A": 3, "patch AAAA": 1, "patch CNAME": 1, "delete TXT": 4], "\(writes)")
            #expect(await rig.requests().filter(\.isBatch).count == 2, "the marks, then the TXT records")
            let after = await rig.simulator.records(zoneID: rig.zoneID)
            #expect(Set(after.filter { $0.type != "TXT" }.map(\.id)) == idsBefore, "every record kept its id")
            #expect(after.filter { $0.type == "TXT" }.map(\.name).sorted() == ["a-theirs.example.test", "example.test"])
            #expect(await rig.stored("media.example.test", "A").map(\.comment) == ["jellyfin heritage=netagent,owner=home,kind=httproute"])
            #expect(await rig.stored("www.example.test", "CNAME").map(\.comment) == ["heritage=netagent,owner=home,kind=crd"])
            #expect(await rig.stored("theirs.example.test", "A").map(\.comment) == [nil])

            await rig.simulator.resetLog()
            let (idle, idleReport) = try await Self.reconcile(desired, registry)
            #expect(!idle.hasChanges && idleReport == ApplyReport(), "\(idle.changes) \(idleReport)")
            #expect(await rig.requests().filter(\.isWrite).isEmpty)
        }
    }

    /// A record whose comment cannot take the marker stays owned through its TXT record until
    /// its comment is shortened; then the same run marks it and retires the TXT record.
    @Test func aTakeOverThatCannotMarkARecordKeepsItsTXTUntilTheCommentFits() async throws {
        try await Rig.with(owner: "home") { rig in
            var wordy = try Self.annotated("wordy.example.test", String(repeating: "w", count: 90))
            _ = try await rig.reconcile([wordy])
            let registry = try Self.registry(rig)
            let (_, report) = try await Self.reconcile([wordy], registry)
            #expect(report.failures.map(\.key.name.text) == ["wordy.example.test"])
            #expect(report.failures.first?.message.contains("CommentTooLong") == true)
            #expect(await rig.stored("a-wordy.example.test", "TXT").count == 1, "the TXT record keeps it owned")

            wordy.providerSpecific.cloudflareRecordComment = "short"
            let (plan, fixed) = try await Self.reconcile([wordy], registry)
            #expect(plan.changes.updates.count == 1 && fixed.isComplete, "\(fixed)")
            #expect(await rig.stored("wordy.example.test", "A").map(\.comment) == ["short heritage=netagent,owner=home,kind=httproute"])
            #expect(await rig.stored("a-wordy.example.test", "TXT").isEmpty)
            let (idle, _) = try await Self.reconcile([wordy], registry)
            #expect(!idle.hasChanges)
        }
    }

    static func annotated(_ name: String, _ comment: String) throws -> Endpoint {
        var endpoint = try Rig.endpoint(name, .a, ["198.18.0.40"])
        endpoint.providerSpecific.cloudflareRecordComment = comment
        return endpoint
    }
}
