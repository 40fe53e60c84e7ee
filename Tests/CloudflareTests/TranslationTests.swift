@testable import Cloudflare
import DNSCore
import Testing

/// Plan changes → record operations and batches, without I/O.
struct TranslationTests {
    let style = RecordStyle(proxiedByDefault: false, comment: "owner=home", tags: [])

    /// A listed record as the provider keeps it.
    func record(_ id: String, _ name: String, _ type: String, _ content: String, ttl: Int = 1, proxied: Bool = false) -> CurrentRecord {
        CurrentRecord(CloudflareRecord(id: id, name: name, type: type, content: content, ttl: ttl, proxied: proxied, comment: "owner=home"))
    }

    @Test func anUpdatePatchesReplacedValuesInPlaceAndLeavesKeptOnesAlone() throws {
        let old = try Rig.endpoint("app.example.test", .a, ["198.18.0.1", "198.18.0.2", "198.18.0.3"])
        let new = try Rig.endpoint("app.example.test", .a, ["198.18.0.1", "198.18.0.4"])
        let stored = zone([old.key: [record("1", "app.example.test", "A", "198.18.0.1"), record("2", "app.example.test", "A", "198.18.0.2"),
                                record("3", "app.example.test", "A", "198.18.0.3")]])
        let (operations, outcomes) = CloudflareTranslation.operations(
            for: Plan.Changes(updates: [Plan.Update(old: old, new: new)]), stored: stored, style: style)
        #expect(outcomes.count == 1)
        #expect(operations.map(\.action) == [
            .delete(id: "3"),
            .patch(CloudflareRecordBody(id: "2", name: "app.example.test", type: "A", content: "198.18.0.4", ttl: 1,
                                        proxied: false, comment: "owner=home")),
        ])
    }

    /// Records by key, as the provider keeps a zone's.
    func zone(_ byKey: [Endpoint.Key: [CurrentRecord]]) -> ZoneRecords {
        ZoneRecords(byKey.flatMap { key, records in records.map { (key: key, record: $0) } })
    }

    @Test func zoneRecordsKeepEachKeysRecordsInOrderThroughUpdates() throws {
        let a = Endpoint.Key(name: try DNSName("a.example.test"), type: .a)
        let b = Endpoint.Key(name: try DNSName("b.example.test"), type: .a)
        let bTXT = Endpoint.Key(name: try DNSName("b.example.test"), type: .txt)
        let c = Endpoint.Key(name: try DNSName("c.example.test"), type: .cname)
        var records = ZoneRecords([(c, record("c1", "c.example.test", "CNAME", "a.example.test")),
                                   (b, record("b1", "b.example.test", "A", "198.18.0.1")),
                                   (a, record("a1", "a.example.test", "A", "198.18.0.9")),
                                   (b, record("b2", "b.example.test", "A", "198.18.0.2"))])
        #expect(records.groups.map(\.key) == [a, b, c])
        #expect(records[b].map(\.content) == ["198.18.0.1", "198.18.0.2"])
        #expect(records[bTXT].isEmpty)

        // A patch echoed (b1, new value), a delete (a1), a create beside b1 (b3) and one of a new key (bTXT).
        records.update(removing: [(a, CloudflareRecordID("a1"))],
                       adding: [(b, record("b1", "b.example.test", "A", "198.18.0.5")), (bTXT, record("t1", "b.example.test", "TXT", "\"x\"")),
                                (b, record("b3", "b.example.test", "A", "198.18.0.3"))])
        #expect(records[a].isEmpty)
        #expect(records[b].map(\.id.text) == ["b2", "b1", "b3"])
        #expect(records[b].map(\.content) == ["198.18.0.2", "198.18.0.5", "198.18.0.3"])
        #expect(records[bTXT].map(\.id.text) == ["t1"])
        #expect(records.groups.map(\.key) == [b, bTXT, c])
        #expect(records.groups.map(\.records.count) == [3, 1, 1])

        // Removing what is not there changes nothing; removing a key's last record leaves no group.
        let before = records
        records.update(removing: [(c, CloudflareRecordID("b1"))], adding: [])
        #expect(records == before)
        records.update(removing: [(c, CloudflareRecordID("c1"))], adding: [])
        #expect(records.groups.map(\.key) == [b, bTXT])
    }

    @Test func aHexRecordIdIsKeptAsSixteenBytesAndRendersBackExactly() {
        for id in ["023e105f4ecef8ad9ca31a8372d0c353", "00000000000000000000000000000000", "0000000000000001ffffffffffffffff",
                   "f0000000000000000000000000000000"] {
            let kept = CloudflareRecordID(id)
            guard case .hex = kept else {
                Issue.record("\(id) was kept as text")
                continue
            }
            #expect(kept.text == id)
        }
        #expect(CloudflareRecordID("0000000000000001ffffffffffffffff") == .hex(1, .max))
        #expect(MemoryLayout<CurrentRecord>.size <= 72, "a kept record grew: \(MemoryLayout<CurrentRecord>.size) bytes")
        #expect(CloudflareRecordID("023e105f4ecef8ad9ca31a8372d0c353") != CloudflareRecordID("023e105f4ecef8ad9ca31a8372d0c354"))
    }

    @Test func anyOtherRecordIdIsKeptAsItsTextUnchanged() {
        // Upper case would render back lower-cased; the others are not 32 hex digits.
        for id in ["023E105F4ECEF8AD9CA31A8372D0C353", "023e105f4ecef8ad9ca31a8372d0c35", "023e105f4ecef8ad9ca31a8372d0c3533",
                   "023e105f4ecef8ad9ca31a8372d0c35g", "023e105f-4ece-f8ad-9ca3-1a8372d0c353", "", "3",
                   "023e105f4ecef8ad9ca31a8372d0c35é"] {
            #expect(CloudflareRecordID(id) == .text(id))
            #expect(CloudflareRecordID(id).text == id)
        }
    }

    @Test func aDeleteAndAPatchNameTheIdAsListed() throws {
        let hexID = "9a7806061c88ada191ed06f989cc3dac"
        let old = try Rig.endpoint("app.example.test", .a, ["198.18.0.1", "198.18.0.2"])
        let new = try Rig.endpoint("app.example.test", .a, ["198.18.0.3"])
        let stored = zone([old.key: [record(hexID, "app.example.test", "A", "198.18.0.1"), record("Legacy-Id-7", "app.example.test", "A", "198.18.0.2")]])
        let (operations, _) = CloudflareTranslation.operations(
            for: Plan.Changes(updates: [Plan.Update(old: old, new: new)]), stored: stored, style: style)
        #expect(operations.map(\.action) == [
            .delete(id: "Legacy-Id-7"),
            .patch(CloudflareRecordBody(id: hexID, name: "app.example.test", type: "A", content: "198.18.0.3", ttl: 1,
                                        proxied: false, comment: "owner=home")),
        ])
    }

    @Test func aKeptValueIsPatchedWhenItsProxiedFlagOrExplicitTTLDiffer() throws {
        let old = try Rig.endpoint("app.example.test", .a, ["198.18.0.1"])
        let new = try Rig.endpoint("app.example.test", .a, ["198.18.0.1"], ttl: 300)
        let stored = zone([old.key: [record("1", "app.example.test", "A", "198.18.0.1", ttl: 120)]])
        let (operations, _) = CloudflareTranslation.operations(
            for: Plan.Changes(updates: [Plan.Update(old: old, new: new)]), stored: stored, style: style)
        guard case .patch(let body) = operations.first?.action else {
            Issue.record("expected a patch, got \(operations)")
            return
        }
        #expect(body.ttl == 300)
        #expect(body.id == "1")
    }

    @Test func batchesKeepDeletesBeforeCreatesAndNeverHoldBothHalvesOfASwitch() throws {
        let a = try Rig.endpoint("app.example.test", .a, ["198.18.0.1"])
        let cname = try Rig.endpoint("app.example.test", .cname, ["other.example.test"])
        let plain = try (0..<3).map { try Rig.endpoint("n\($0).example.test", .a, ["198.18.1.\($0)"]) }
        let stored = zone([a.key: [record("1", "app.example.test", "A", "198.18.0.1")]])
        let (operations, _) = CloudflareTranslation.operations(
            for: Plan.Changes(creates: [cname] + plain, deletes: [a]), stored: stored, style: style)
        #expect(operations.map(\.phase) == [0, 2, 2, 2, 2])
        let chunks = CloudflareTranslation.chunks(operations, size: 200)
        #expect(chunks.count == 2)
        for chunk in chunks {
            let types = Set(chunk.filter { $0.key.name.text == "app.example.test" }.map(\.key.type))
            #expect(types.count <= 1, "one batch holds \(types)")
        }
        #expect(CloudflareTranslation.chunks(operations, size: 2).map(\.count) == [1, 2, 2])
    }

    @Test func proxiedRecordsGetAutomaticTTLAndTXTIsNeverProxied() throws {
        let proxied = CloudflareTranslation.body(try Rig.endpoint("a.example.test", .a, ["198.18.0.1"], ttl: 600, proxied: true),
                                                 content: "198.18.0.1", style: style)
        #expect(proxied.ttl == 1)
        #expect(proxied.proxied == true)
        let txt = CloudflareTranslation.body(try Rig.endpoint("t.example.test", .txt, ["x"], proxied: true), content: "x",
                                             style: RecordStyle(proxiedByDefault: true, comment: nil, tags: []))
        #expect(txt.proxied == nil)
    }

    @Test func readingBackMatchesWhatAdjustWrites() throws {
        let read = CloudflareProvider.endpoint(Endpoint.Key(name: try DNSName("app.example.test"), type: .a), [
            record("1", "app.example.test", "A", "198.18.0.1", ttl: 1, proxied: true),
        ])
        #expect(read?.ttl == nil)
        #expect(read?.providerSpecific.cloudflareProxied == true)
        let mixed = CloudflareProvider.endpoint(Endpoint.Key(name: try DNSName("app.example.test"), type: .a), [
            record("1", "app.example.test", "A", "198.18.0.1", ttl: 300, proxied: true),
            record("2", "app.example.test", "A", "198.18.0.2", ttl: 120, proxied: false),
        ])
        #expect(mixed?.providerSpecific.cloudflareProxied == nil, "a flag that disagrees must read as different from any desired one")
        #expect(mixed?.ttl == 0)
    }
}
