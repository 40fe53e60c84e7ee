import DNSCore
import Foundation
import NetAgent
import State
import Testing

@Suite struct StateStoreTests {
    private func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("netagent-state-\(UUID().uuidString).sqlite").path
    }

    private func key(_ name: String, _ type: RecordType = .a) throws -> Endpoint.Key {
        Endpoint.Key(name: try DNSName(name), type: type)
    }

    @Test func ledgerSurvivesReopening() async throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let ledger = try StateStore(path: path).ledger(scope: "pihole")
            try await ledger.record(adding: [
                LedgerEntry(key: try key("jellyfin.lan"), resource: "httproute/media/jellyfin"),
                LedgerEntry(key: try key("grafana.lan", .cname)),
                LedgerEntry(key: try key("old.lan")),
            ], removing: [])
            try await ledger.record(adding: [], removing: [try key("old.lan")])
        }
        let reopened = try StateStore(path: path)
        let entries = try await reopened.ledger(scope: "pihole").entries()
        #expect(entries == [
            LedgerEntry(key: try key("grafana.lan", .cname)),
            LedgerEntry(key: try key("jellyfin.lan"), resource: "httproute/media/jellyfin"),
        ])
        #expect(try await reopened.ledger(scope: "other").entries().isEmpty)
    }

    @Test func ledgerRegistryAdoptsOnceAndRemembersAcrossRestarts() async throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let zone = [Endpoint(name: try DNSName("nas.lan"), type: .a, targets: ["10.0.60.30"]),
                    Endpoint(name: try DNSName("printer.lan"), type: .a, targets: ["10.0.60.50"])]
        let provider = InMemoryProvider(capabilities: .init(storesTTL: false), records: zone)
        let desired = [Endpoint(name: try DNSName("nas.lan"), type: .a, targets: ["10.0.60.30"], ttl: 300,
                                labels: EndpointLabels(resource: "httproute/s/nas"))]
        do {
            let registry = LedgerRegistry(provider: provider, ledger: try StateStore(path: path).ledger(scope: "pihole"), ownerID: "home")
            let (plan, _) = try await PlanningRun().reconcile(desired: desired, registry: registry)
            #expect(!plan.hasChanges)
        }
        // After a restart the adopted record is still ours: dropping it from desired deletes it.
        let registry = LedgerRegistry(provider: provider, ledger: try StateStore(path: path).ledger(scope: "pihole"), ownerID: "home")
        let run = PlanningRun(deleteGuard: DeleteGuard(forceDeletes: true))
        let (plan, report) = try await run.reconcile(desired: [], registry: registry)
        #expect(plan.changes.deletes.map(\.name.text) == ["nas.lan"])
        #expect(report.deleted == 1)
        #expect(await provider.records().map(\.name.text) == ["printer.lan"])
        #expect(try await StateStore(path: path).ledger(scope: "pihole").entries().isEmpty)
    }

    @Test func unopenableFileIsAnErrorNamingIt() {
        #expect {
            _ = try StateStore(path: "/nonexistent-dir/netagent/state.sqlite")
        } throws: { error in
            (error as? StateStoreError)?.description.contains("/nonexistent-dir/netagent/state.sqlite") == true
        }
    }
}
