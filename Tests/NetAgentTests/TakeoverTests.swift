import Config
import DNSCore
import Foundation
import NetAgent
import TestSupport
import Testing

/// Taking over a Pi-hole that external-dns filled (docs/migration.md): the first cycle finds
/// nothing to change, yet must write the exact matches it adopted into the ledger, or a route
/// deleted before the next change would leave its record behind for good.
struct TakeoverTests {
    static func routes(_ names: [String], in folder: URL) throws -> String {
        let file = folder.appendingPathComponent("routes-\(names.count).yaml")
        let routes = names.map { GatewayFixtures.routeYAML($0, namespace: "apps", hosts: ["\($0).home.test"]) }
        try ([GatewayFixtures.gatewayYAML] + routes).joined(separator: "\n---\n").write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("a takeover with nothing to change adopts the exact matches into the ledger; a route deleted next deletes its record")
    func zeroChangeTakeoverPersistsAdoptions() async throws {
        let folder = try Repository.temporaryFolder("takeover")
        let names = ["wiki", "docs", "grafana"]
        let all = try Self.routes(names, in: folder)
        let fewer = try Self.routes(["wiki", "grafana"], in: folder)
        let address = "198.18.0.50"
        // What external-dns left: the three records, and one made by hand.
        let existing = try (names.map { "\($0).home.test" } + ["nas.home.test"]).map {
            Endpoint(name: try DNSName($0), type: .a, targets: [address])
        }
        let provider = InMemoryProvider(records: existing)
        let ledger = InMemoryLedger()
        let configFile = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster: { name: lab, network: 198.18.0.0/24 }
            providers:
              - { name: pihole, type: pihole, url: http://127.0.0.1:9, select: { domainFilters: [home.test] } }
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let config = try NetAgentConfig.load(file: configFile.path)
        let target = DNSTarget(config: config.providers[0], instance: "pihole", registry: LedgerRegistry(provider: provider, ledger: ledger, ownerID: "pihole"),
                               planning: PlanningRun(), close: {})

        let first = await TargetReconciler<ContinuousClock>.cycle(
            target, objects: await RouteSources(manifests: [all], cluster: nil).objects(),
            annotationPrefixes: config.sources.annotationPrefixes, dryRun: false)
        guard case .success(let plan) = first.result else { Issue.record("\(first.error ?? "")"); return }
        #expect(plan.changes.isEmpty)
        #expect(Set(await ledger.entries().map(\.key.name.text)) == Set(names.map { "\($0).home.test" }))

        let second = await TargetReconciler<ContinuousClock>.cycle(
            target, objects: await RouteSources(manifests: [fewer], cluster: nil).objects(),
            annotationPrefixes: config.sources.annotationPrefixes, dryRun: false)
        #expect(second.ok, "\(second.error ?? "")")
        #expect(Set(await provider.records().map(\.name.text)) == ["wiki.home.test", "grafana.home.test", "nas.home.test"])
    }
}
