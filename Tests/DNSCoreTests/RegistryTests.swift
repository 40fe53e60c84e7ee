import DNSCore
import Testing

/// The records an external-dns with owner `home` leaves behind, written as external-dns
/// writes them: typed TXT names for A and CNAME, an old untyped TXT for a record it made
/// before v0.12, a TXT of another owner, and an SPF record that is nobody's ownership.
private func externalDNSZone() -> [Endpoint] {
    let txt = { (name: String, value: String) in Fx.rec(name, .txt, [value]) }
    return [
        Fx.rec("jellyfin.example.com", .a, ["10.0.60.20"], ttl: 300),
        txt("a-jellyfin.example.com", #""heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/media/jellyfin""#),
        Fx.rec("grafana.example.com", .cname, ["tunnel.example.net"]),
        txt("cname-grafana.example.com", #""heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/monitoring/grafana""#),
        Fx.rec("old.example.com", .a, ["10.0.60.21"]),
        txt("old.example.com", #""heritage=external-dns,external-dns/owner=home,external-dns/resource=ingress/legacy/old""#),
        Fx.rec("v6.example.com", .aaaa, ["2001:db8::6"]),
        txt("aaaa-v6.example.com", #""heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/net/v6""#),
        Fx.rec("nas.example.com", .a, ["10.0.60.30"]),
        txt("a-nas.example.com", #""heritage=external-dns,external-dns/owner=other-cluster,external-dns/resource=service/x/nas""#),
        Fx.rec("example.com", .txt, ["v=spf1 -all"]),
        Fx.rec("router.example.com", .a, ["10.0.60.1"]),
    ]
}

private func desiredForHome() -> [Endpoint] {
    [
        Fx.want("jellyfin.example.com", .a, "10.0.60.20", from: "httproute/media/jellyfin"),
        Fx.want("grafana.example.com", .cname, "tunnel.example.net", from: "httproute/monitoring/grafana"),
        Fx.want("old.example.com", .a, "10.0.60.21", from: "ingress/legacy/old"),
        Fx.want("v6.example.com", .aaaa, "2001:DB8:0::6", from: "httproute/net/v6"),
    ]
}

@Suite struct TXTRegistryTests {
    private func registry(_ provider: InMemoryProvider, owner: String = "home", mapper: TXTNameMapper? = nil) throws -> TXTRegistry {
        try TXTRegistry(provider: provider, ownerID: owner, mapper: mapper ?? TXTNameMapper())
    }

    @Test func takesOverExternalDNSWithoutChangingARecord() async throws {
        let provider = InMemoryProvider(records: externalDNSZone())
        let registry = try registry(provider)
        let (plan, report) = try await PlanningRun().reconcile(desired: desiredForHome(), registry: registry)
        #expect(Fx.summary(plan) == [])
        #expect(report == ApplyReport())
        #expect(await provider.applyCalls == 0)
        #expect(await provider.records() == externalDNSZone().map { $0.withLabels(EndpointLabels()) }.sorted { $0.key < $1.key })
    }

    /// TXT names written out by hand as external-dns names them under each setting, so the
    /// check does not lean on our own mapper.
    @Test(arguments: [
        ("txt-", "", "", "txt-a-web.example.com", ""),
        ("", "-%{record_type}", "", "web-a.example.com", ""),
        ("%{record_type}.", "", "", "a.web.example.com", ""),
        ("txt-", "", "any", "txt-a-web.example.com", "txt-cname-any.apps.example.com"),
    ])
    func takesOverUnderAffixSettings(prefix: String, suffix: String, wildcard: String, webTXT: String, wildTXT: String) async throws {
        let value = TXTLabels.serialize(EndpointLabels(owner: "home", resource: "httproute/web/web"))
        var zone = [Fx.rec("web.example.com", .a, ["10.0.60.20"]), Fx.rec(webTXT, .txt, [value])]
        var desired = [Fx.want("web.example.com", .a, "10.0.60.20", from: "httproute/web/web")]
        if !wildcard.isEmpty {
            zone += [Fx.rec("*.apps.example.com", .cname, ["web.example.com"]), Fx.rec(wildTXT, .txt, [value])]
            desired.append(Fx.want("*.apps.example.com", .cname, "web.example.com", from: "httproute/web/web"))
        }
        let provider = InMemoryProvider(records: zone)
        let mapper = try TXTNameMapper(prefix: prefix, suffix: suffix, wildcardReplacement: wildcard)
        let registry = try TXTRegistry(provider: provider, ownerID: "home", mapper: mapper)
        let (plan, _) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == [])
        #expect(await provider.applyCalls == 0)
    }

    @Test func readsOwnersFromTypedAndOldNamesAndHidesOwnershipRecords() async throws {
        let registry = try registry(InMemoryProvider(records: externalDNSZone()))
        let records = try await registry.records(desired: [])
        let owners = Dictionary(uniqueKeysWithValues: records.map { ($0.key.description, $0.labels.owner ?? "-") })
        #expect(owners == [
            "jellyfin.example.com A": "home", "grafana.example.com CNAME": "home", "old.example.com A": "home",
            "v6.example.com AAAA": "home", "nas.example.com A": "other-cluster", "example.com TXT": "-",
            "router.example.com A": "-",
        ])
        #expect(records.first { $0.name == Fx.name("old.example.com") }?.labels.resource == "ingress/legacy/old")
    }

    @Test func oldUntypedNamesDoNotOwnAAAARecords() async throws {
        let zone = [Fx.rec("v6.example.com", .aaaa, ["2001:db8::6"]),
                    Fx.rec("v6.example.com", .txt, [TXTLabels.serialize(EndpointLabels(owner: "home"))])]
        let records = try await registry(InMemoryProvider(records: zone)).records(desired: [])
        #expect(records.map(\.labels.owner) == [nil])
    }

    @Test func createWritesRecordAndTypedTXTThenNothingMore() async throws {
        let provider = InMemoryProvider()
        let registry = try registry(provider)
        let desired = [Fx.want("new.example.com", .aaaa, "2001:db8::9", from: "httproute/a/new")]
        let (plan, report) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == ["+ new.example.com AAAA 2001:db8::9"])
        #expect(report.created == 2 && report.isComplete)
        let stored = await provider.records()
        #expect(stored.map(\.key.description) == ["aaaa-new.example.com TXT", "new.example.com AAAA"])
        #expect(stored[0].targets == [#""heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/a/new""#])
        let again = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(!again.plan.hasChanges)
        #expect(await provider.applyCalls == 1)
    }

    @Test func deleteRemovesTheRecordAndBothOfItsOwnershipRecords() async throws {
        var zone = externalDNSZone()
        zone.append(Fx.rec("a-old.example.com", .txt, [TXTLabels.serialize(EndpointLabels(owner: "home"))]))
        let provider = InMemoryProvider(records: zone)
        let registry = try registry(provider)
        let desired = desiredForHome().filter { $0.name != Fx.name("old.example.com") }
        let (plan, report) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == ["- old.example.com A"])
        #expect(report.deleted == 3 && report.isComplete)
        let names = await provider.records().map(\.name.text)
        #expect(!names.contains("old.example.com") && !names.contains("a-old.example.com"))
        #expect(names.contains("a-nas.example.com") && names.contains("router.example.com"))
    }

    @Test func updateRewritesTheTXTWhenTheResourceChanges() async throws {
        let provider = InMemoryProvider(records: externalDNSZone())
        let registry = try registry(provider)
        var desired = desiredForHome()
        desired[0] = Fx.want("jellyfin.example.com", .a, "10.0.60.22", from: "httproute/media/jellyfin-v2")
        let (plan, _) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == ["~ jellyfin.example.com A 10.0.60.20 ttl=300 -> 10.0.60.22"])
        let txt = await provider.records().first { $0.name == Fx.name("a-jellyfin.example.com") }
        #expect(txt.flatMap { TXTLabels.parse($0.targets[0]) }?.resource == "httproute/media/jellyfin-v2")
        #expect(try await !PlanningRun().plan(desired: desired, registry: registry).hasChanges)
    }

    @Test func foreignRecordsSurviveSyncAndConflictsAreReported() async throws {
        let provider = InMemoryProvider(records: externalDNSZone())
        let registry = try registry(provider)
        let desired = [Fx.want("nas.example.com", .a, "10.0.60.99"), Fx.want("router.example.com", .aaaa, "2001:db8::1")]
        let (plan, _) = try await PlanningRun(deleteGuard: DeleteGuard(forceDeletes: true)).reconcile(desired: desired, registry: registry)
        #expect(plan.conflicts.map(\.reason) == [.foreignRecord(owner: "other-cluster"), .foreignRecord(owner: nil)])
        let stored = await provider.records()
        #expect(stored.contains(Fx.rec("nas.example.com", .a, ["10.0.60.30"])))
        #expect(stored.contains(Fx.rec("router.example.com", .a, ["10.0.60.1"])))
        #expect(!stored.contains { $0.name == Fx.name("router.example.com") && $0.type == .aaaa })
    }

    @Test func wildcardWithReplacementRoundTrips() async throws {
        let provider = InMemoryProvider()
        let registry = try registry(provider, mapper: TXTNameMapper(prefix: "txt-", wildcardReplacement: "wild"))
        let desired = [Fx.want("*.apps.example.com", .a, "10.0.60.40")]
        _ = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(await provider.records().map(\.name.text).contains("txt-a-wild.apps.example.com"))
        #expect(try await !PlanningRun().plan(desired: desired, registry: registry).hasChanges)
    }

    @Test func wildcardWithoutReplacementIsRefusedNotWrittenUnowned() async throws {
        let provider = InMemoryProvider()
        let registry = try registry(provider)
        let (_, report) = try await PlanningRun().reconcile(desired: [Fx.want("*.example.com", .a, "10.0.0.1")], registry: registry)
        #expect(report.failures.map(\.operation) == [.create])
        #expect(await provider.records().isEmpty)
        #expect(await provider.applyCalls == 0)
    }

    @Test func adjustmentMakesTheSecondRunEmpty() async throws {
        let provider = InMemoryProvider(capabilities: .init(storesTTL: false, storesProxied: false))
        let registry = try registry(provider)
        let desired = [Fx.want("a.example.com", .a, "10.0.0.1", ttl: 60, proxied: true)]
        _ = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(await provider.records().allSatisfy { $0.ttl == nil })
        #expect(try await !PlanningRun().plan(desired: desired, registry: registry).hasChanges)
    }

    @Test func emptyOwnerIDIsRefused() {
        #expect(throws: TXTConfigError.self) { try TXTRegistry(provider: InMemoryProvider(), ownerID: "", mapper: TXTNameMapper()) }
    }
}

@Suite struct LedgerRegistryTests {
    private let zone = [
        Fx.rec("jellyfin.lan", .a, ["10.0.60.20"]),
        Fx.rec("grafana.lan", .a, ["10.0.60.21"]),
        Fx.rec("printer.lan", .a, ["10.0.60.50"]),
    ]

    @Test func emptyLedgerAdoptsOnlyExactMatches() async throws {
        let provider = InMemoryProvider(capabilities: .init(storesTTL: false), records: zone)
        let ledger = InMemoryLedger()
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let desired = [Fx.want("jellyfin.lan", .a, "10.0.60.20", ttl: 300), Fx.want("grafana.lan", .a, "10.0.60.99")]
        let (plan, _) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == ["! grafana.lan A httproute/web/grafana lost to unowned foreign(none)"])
        #expect(await ledger.entries().map(\.key.description) == ["jellyfin.lan A"])
        #expect(await provider.applyCalls == 0)
    }

    @Test func ledgerWithEntriesAdoptsNothingMore() async throws {
        let provider = InMemoryProvider(records: zone)
        let ledger = InMemoryLedger([LedgerEntry(key: Endpoint.Key(name: Fx.name("jellyfin.lan"), type: .a))])
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let records = try await registry.records(desired: [Fx.want("grafana.lan", .a, "10.0.60.21")])
        #expect(records.filter { $0.labels.owner == "home" }.map(\.name.text) == ["jellyfin.lan"])
    }

    @Test func createsAndDeletesKeepTheLedgerInStep() async throws {
        let provider = InMemoryProvider(records: zone)
        let ledger = InMemoryLedger((zone.prefix(2)).map { LedgerEntry(key: $0.key) })
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let desired = [Fx.want("jellyfin.lan", .a, "10.0.60.20"), Fx.want("nas.lan", .a, "10.0.60.30", from: "httproute/s/nas")]
        let (plan, report) = try await PlanningRun().reconcile(desired: desired, registry: registry)
        #expect(Fx.summary(plan) == ["+ nas.lan A 10.0.60.30", "- grafana.lan A"])
        #expect(report.isComplete)
        let entries = await ledger.entries().sorted { $0.key < $1.key }
        #expect(entries.map(\.key.description) == ["jellyfin.lan A", "nas.lan A"])
        #expect(entries.last?.resource == "httproute/s/nas")
        #expect(await provider.records().map(\.name.text) == ["jellyfin.lan", "nas.lan", "printer.lan"])
    }

    @Test func entriesOfRecordsDeletedByHandAreForgotten() async throws {
        let provider = InMemoryProvider(records: zone)
        let gone = Endpoint.Key(name: Fx.name("deleted-by-hand.lan"), type: .a)
        let ledger = InMemoryLedger([LedgerEntry(key: zone[0].key), LedgerEntry(key: gone)])
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let (plan, _) = try await PlanningRun().reconcile(desired: [Fx.want("jellyfin.lan", .a, "10.0.60.20")], registry: registry)
        #expect(!plan.hasChanges)
        #expect(await ledger.entries().map(\.key) == [zone[0].key])
        #expect(await provider.applyCalls == 0)
    }

    @Test func aForgottenRecordDesiredAgainIsCreatedAndKept() async throws {
        let provider = InMemoryProvider()
        let key = Endpoint.Key(name: Fx.name("nas.lan"), type: .a)
        let ledger = InMemoryLedger([LedgerEntry(key: key)])
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let (plan, _) = try await PlanningRun().reconcile(desired: [Fx.want("nas.lan", .a, "10.0.60.30")], registry: registry)
        #expect(Fx.summary(plan) == ["+ nas.lan A 10.0.60.30"])
        #expect(await ledger.entries().map(\.key) == [key])
    }

    @Test func aRefusedCreateIsNotRecorded() async throws {
        let provider = InMemoryProvider(records: [Fx.rec("alias.lan", .cname, ["x.lan"])])
        let ledger = InMemoryLedger([LedgerEntry(key: Endpoint.Key(name: Fx.name("other.lan"), type: .a))])
        let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
        let report = try await registry.apply(Plan.Changes(creates: [Fx.want("alias.lan", .a, "10.0.0.1")]))
        #expect(report.failures.count == 1)
        #expect(await ledger.entries().map(\.key.description) == ["other.lan A"])
    }

    @Test func unownedUpdatesAndDeletesNeverReachTheProvider() async throws {
        let provider = InMemoryProvider(records: zone)
        let registry = LedgerRegistry(provider: provider, ledger: InMemoryLedger(), ownerID: "home")
        let printer = zone[2]
        let changes = Plan.Changes(
            updates: [Plan.Update(old: printer, new: Fx.rec("printer.lan", .a, ["10.0.0.1"]))], deletes: [printer])
        let report = try await registry.apply(changes)
        #expect(report == ApplyReport())
        #expect(await provider.records() == zone.sorted { $0.key < $1.key })
    }
}
