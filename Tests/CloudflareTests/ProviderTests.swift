import Cloudflare
import DNSCore
import Lab
import Testing

/// The provider, wrapped in the TXT registry, against the Lab's Cloudflare v4 simulator.
struct ProviderTests {
    @Test func createsUpdatesAndDeletesWithOwnershipRecords() async throws {
        try await Rig.with { rig in
            let (_, created) = try await rig.reconcile([
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10", "198.18.0.11"]),
                try Rig.endpoint("v6.example.test", .aaaa, ["2001:db8::10"]),
                try Rig.endpoint("www.example.test", .cname, ["app.example.test"]),
            ])
            #expect(created.isComplete)
            #expect(created.created == 6)  // three record sets, three ownership TXT
            let owner = "\"heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/default/app\""
            #expect(await rig.lines() == [
                "a-app.example.test TXT \(owner)", "aaaa-v6.example.test TXT \(owner)",
                "app.example.test A 198.18.0.10", "app.example.test A 198.18.0.11",
                "cname-www.example.test TXT \(owner)", "v6.example.test AAAA 2001:db8::10",
                "www.example.test CNAME app.example.test",
            ])
            let idBefore = await rig.stored("app.example.test", "A").first { $0.content == "198.18.0.10" }?.id

            let (_, changed) = try await rig.reconcile([
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10", "198.18.0.12"]),
                try Rig.endpoint("www.example.test", .cname, ["v6.example.test"]),
            ])
            #expect(changed.isComplete)
            #expect(changed.updated == 2)
            #expect(changed.deleted == 2)  // v6 and its TXT
            let app = await rig.stored("app.example.test", "A")
            #expect(Set(app.map(\.content)) == ["198.18.0.10", "198.18.0.12"])
            #expect(app.first { $0.content == "198.18.0.10" }?.id == idBefore, "a kept value must not be rewritten")
            #expect(await rig.stored("www.example.test", "CNAME").map(\.content) == ["v6.example.test"])
            #expect(await rig.stored("v6.example.test", "AAAA").isEmpty)
            #expect(await rig.stored("aaaa-v6.example.test", "TXT").isEmpty)
        }
    }

    @Test func writtenRecordsAreChangedByTheirRememberedIdsUntilTheNextListing() async throws {
        try await Rig.with { rig in
            #expect(try await rig.provider.records().isEmpty)
            let a = try Rig.endpoint("app.example.test", .a, ["198.18.0.1"])
            let txt = Endpoint(name: try DNSName("a-app.example.test"), type: .txt, targets: ["\"heritage=external-dns,one\""])
            let created = try await rig.provider.apply(Plan.Changes(creates: [a, txt]))
            #expect(created.isComplete && created.created == 2)
            let ids = await Set(rig.simulator.records(zoneID: rig.zoneID).map(\.id))

            // No listing in between: the ids, names and values come from what the provider kept of the batch's answer.
            let newA = try Rig.endpoint("app.example.test", .a, ["198.18.0.2"])
            let newTXT = Endpoint(name: txt.name, type: .txt, targets: ["\"heritage=external-dns,two\""])
            let changed = try await rig.provider.apply(Plan.Changes(updates: [Plan.Update(old: a, new: newA), Plan.Update(old: txt, new: newTXT)]))
            #expect(changed.isComplete && changed.updated == 2)
            #expect(await rig.lines() == ["a-app.example.test TXT \"heritage=external-dns,two\"", "app.example.test A 198.18.0.2"])
            #expect(await Set(rig.simulator.records(zoneID: rig.zoneID).map(\.id)) == ids, "patched in place")

            let deleted = try await rig.provider.apply(Plan.Changes(deletes: [newA, newTXT]))
            #expect(deleted.isComplete && deleted.deleted == 2)
            #expect(await rig.lines().isEmpty)
            let listings = await rig.requests().filter { $0.method == "GET" && $0.path.hasSuffix("/dns_records") }
            #expect(listings.count == 1)
        }
    }

    @Test func listsEveryPageAtTheLargestPageSize() async throws {
        var options = CloudflareSimulator.Options()
        options.maxPerPage = 100  // the server cuts per_page: the client must follow result_info
        try await Rig.with(options) { rig in
            for i in 0..<450 {
                await rig.simulator.insert(SimulatedDNSRecord(name: "host\(i).example.test", type: "A", content: "198.18.1.\(i % 250)"), zoneID: rig.zoneID)
            }
            let records = try await rig.provider.records()
            #expect(records.count == 450)
            let lists = await rig.requests().filter(\.isRecordList)
            #expect(lists.count == 5)
            #expect(lists.allSatisfy { $0.query["per_page"] == "5000" })
        }
    }

    @Test(arguments: [10, 200])
    func batchesAreChunked(chunk: Int) async throws {
        try await Rig.with(provider: { $0.batchChunkSize = chunk }) { rig in
            let desired = try (0..<60).map { try Rig.endpoint("svc\($0).example.test", .a, ["198.18.2.\($0)"]) }
            let (_, report) = try await rig.reconcile(desired)
            #expect(report.created == 120)
            let batches = await rig.requests().filter(\.isBatch)
            #expect(batches.count == (120 + chunk - 1) / chunk)
            #expect(await rig.simulator.records(zoneID: rig.zoneID).count == 120)
        }
    }

    @Test func aRefusedChunkIsBisectedAndEveryRefusalReportedByRecord() async throws {
        try await Rig.with(provider: { $0.batchChunkSize = 16 }) { rig in
            var desired = try (0..<20).map { try Rig.endpoint("ok\($0).example.test", .a, ["198.18.3.\($0)"]) }
            desired.append(try Rig.endpoint("badttl.example.test", .a, ["198.18.3.200"], ttl: 30))
            desired.append(try Rig.endpoint("badip.example.test", .a, ["198.18.3.999"]))
            let (_, report) = try await rig.reconcile(desired)
            let failures = Dictionary(uniqueKeysWithValues: report.failures.map { ($0.key.name.text, $0) })
            #expect(failures.count == 2)
            #expect(failures["badttl.example.test"]?.message.contains("9021") == true)
            #expect(failures["badip.example.test"]?.message.contains("9005") == true)
            #expect(failures["badttl.example.test"]?.message.contains("zone example.test") == true)
            #expect(report.created == 40 + 2)  // 20 records, 20 TXT, and the TXT of the two refused
            #expect(await rig.stored("ok19.example.test", "A").map(\.content) == ["198.18.3.19"])
            #expect(await rig.stored("badttl.example.test", "A").isEmpty)
        }
    }

    @Test func proxiedAndTTLAreNormalisedSoTheSecondRunWritesNothing() async throws {
        let tunnel = CloudflareTunnelClient.cnameTarget(forTunnel: "11111111-2222-3333-4444-555555555555")
        try await Rig.with(provider: { $0.proxiedByDefault = true }) { rig in
            let desired = [
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10"], ttl: 300),  // proxied by default: TTL auto
                try Rig.endpoint("direct.example.test", .a, ["198.18.0.11"], ttl: 120, proxied: false),
                try Rig.endpoint("auto.example.test", .cname, ["app.example.test"], ttl: 1, proxied: false),
            ]
            // The planner manages A, AAAA and CNAME; a TXT that reaches the provider is never proxied.
            let note = rig.provider.adjust([try Rig.endpoint("note.example.test", .txt, ["hello"], ttl: 1, proxied: true)])
            #expect(note.first?.providerSpecific.cloudflareProxied == nil)
            #expect(note.first?.ttl == nil)
            _ = try await rig.reconcile(desired)
            #expect(await rig.stored("app.example.test", "A").map { [$0.ttl, $0.proxied ? 1 : 0] } == [[1, 1]])
            #expect(await rig.stored("direct.example.test", "A").map { [$0.ttl, $0.proxied ? 1 : 0] } == [[120, 0]])
            #expect(await rig.stored("auto.example.test", "CNAME").map { [$0.ttl, $0.proxied ? 1 : 0] } == [[1, 0]])
            #expect(await rig.stored("cname-auto.example.test", "TXT").map(\.proxied) == [false])
            await rig.simulator.resetLog()
            let (plan, _) = try await rig.reconcile(desired)
            #expect(!plan.hasChanges, "\(plan.changes)")
            #expect(await rig.requests().filter(\.isWrite).isEmpty)
        }
        try await Rig.with { rig in
            _ = try await rig.reconcile([try Rig.endpoint("home.example.test", .cname, [tunnel])])
            #expect(await rig.stored("home.example.test", "CNAME").map(\.proxied) == [true], "a tunnel CNAME works only proxied")
        }
    }

    @Test func externalDNSRecordsAreTakenOverWithoutAWrite() async throws {
        try await Rig.with { rig in
            let owner = "\"heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/default/app\""
            for record in [
                SimulatedDNSRecord(name: "app.example.test", type: "A", content: "198.18.0.10"),
                SimulatedDNSRecord(name: "a-app.example.test", type: "TXT", content: owner),
                SimulatedDNSRecord(name: "www.example.test", type: "CNAME", content: "app.example.test", proxied: true),
                SimulatedDNSRecord(name: "cname-www.example.test", type: "TXT", content: owner),
                SimulatedDNSRecord(name: "old.example.test", type: "A", content: "198.18.0.30"),
                SimulatedDNSRecord(name: "a-old.example.test", type: "TXT", content: owner),
            ] { await rig.simulator.insert(record, zoneID: rig.zoneID) }
            let desired = [
                try Rig.endpoint("app.example.test", .a, ["198.18.0.10"]),
                try Rig.endpoint("www.example.test", .cname, ["app.example.test"], proxied: true),
                try Rig.endpoint("old.example.test", .a, ["198.18.0.30"]),
            ]
            let (plan, report) = try await rig.reconcile(desired)
            #expect(!plan.hasChanges)
            #expect(report == ApplyReport())
            #expect(await rig.requests().filter(\.isWrite).isEmpty)
            // And they are owned: dropping one deletes it and its TXT.
            let (_, later) = try await rig.reconcile(Array(desired.prefix(2)))
            #expect(later.deleted == 2)
            #expect(await rig.stored("old.example.test", "A").isEmpty)
        }
    }

    @Test func foreignRecordsAreUntouchedUnderSync() async throws {
        try await Rig.with { rig in
            for record in [
                SimulatedDNSRecord(name: "printer.example.test", type: "A", content: "198.18.0.99"),
                SimulatedDNSRecord(name: "example.test", type: "TXT", content: "v=spf1 -all"),
                SimulatedDNSRecord(name: "other.example.test", type: "A", content: "198.18.0.98"),
                SimulatedDNSRecord(name: "a-other.example.test", type: "TXT",
                                   content: "\"heritage=external-dns,external-dns/owner=someone-else\""),
            ] { await rig.simulator.insert(record, zoneID: rig.zoneID) }
            _ = try await rig.reconcile([try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])])
            let (plan, _) = try await rig.reconcile([try Rig.endpoint("app.example.test", .a, ["198.18.0.11"])])
            #expect(plan.changes.deletes.isEmpty)
            let lines = await rig.lines()
            #expect(lines.contains("printer.example.test A 198.18.0.99"))
            #expect(lines.contains("example.test TXT v=spf1 -all"))
            #expect(lines.contains("other.example.test A 198.18.0.98"))
            #expect(lines.contains("app.example.test A 198.18.0.11"))
        }
    }

    @Test func switchingBetweenAAndCNAMENeverSharesABatch() async throws {
        try await Rig.with { rig in
            // Two steady records keep the switch's one delete under the safety guard's share.
            let steady = try ["one", "two"].map { try Rig.endpoint("\($0).example.test", .a, ["198.18.0.1"]) }
            _ = try await rig.reconcile(steady + [try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])])
            await rig.simulator.resetLog()
            let (plan, report) = try await rig.reconcile(steady + [try Rig.endpoint("app.example.test", .cname, ["elsewhere.example.test"])])
            #expect(report.isComplete, "\(report.failures) \(plan)")
            #expect(await rig.requests().filter(\.isBatch).count == 2)
            #expect(await rig.stored("app.example.test", "CNAME").map(\.content) == ["elsewhere.example.test"])
            #expect(await rig.stored("app.example.test", "A").isEmpty)
            #expect(await rig.stored("a-app.example.test", "TXT").isEmpty)
            #expect(await rig.stored("cname-app.example.test", "TXT").count == 1)
        }
    }
}
