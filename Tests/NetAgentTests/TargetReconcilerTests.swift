import Config
import DNSCore
import Diagnosis
import Foundation
import Kube
import Logging
import NetAgent
import Synchronization
import TestSupport
import Testing

/// The reconcile loop on a manual clock: a burst of changes is one run, a failed cycle is
/// retried after its back-off, a resync runs with no change, and nothing runs in between.
struct TargetReconcilerTests {
    /// A registry over an in-memory provider that counts reads and can be made to fail.
    final class CountingRegistry: Registry {
        let inner: LedgerRegistry
        let reads = Mutex(0)
        let failing = Mutex(false)
        init(inner: LedgerRegistry) { self.inner = inner }
        var ownerID: String { inner.ownerID }
        var provider: any DNSProvider { inner.provider }

        struct Down: Error, CustomStringConvertible { var description: String { "provider down" } }

        func records(desired: [Endpoint]) async throws -> [Endpoint] {
            reads.withLock { $0 += 1 }
            if failing.withLock({ $0 }) { throw Down() }
            return try await inner.records(desired: desired)
        }

        func apply(_ changes: Plan.Changes) async throws -> ApplyReport { try await inner.apply(changes) }
    }

    static func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            if ContinuousClock.now > deadline { throw TestSupportError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func burstsCollapseFailuresBackOffAndResyncRuns() async throws {
        let folder = try Repository.temporaryFolder("reconciler")
        let routes = folder.appendingPathComponent("routes.yaml")
        try """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: { name: gw, namespace: network }
            spec:
              gatewayClassName: envoy
              addresses: [{ type: IPAddress, value: 198.18.0.50 }]
              listeners: [{ name: https, port: 443, protocol: HTTPS, hostname: "*.home.test" }]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: { name: wiki, namespace: network }
            spec:
              parentRefs: [{ name: gw }]
              hostnames: [wiki.home.test]
            """.write(to: routes, atomically: true, encoding: .utf8)
        let configFile = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster: { name: lab, network: 198.18.0.0/24, nodes: [{ name: n1, address: 198.18.0.21 }] }
            sources: { manifests: [\(routes.path)] }
            providers:
              - { name: memory, type: pihole, urls: [http://127.0.0.1:9], select: { domainFilters: [home.test] } }
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let config = try NetAgentConfig.load(file: configFile.path)

        let memory = InMemoryProvider()
        let registry = CountingRegistry(inner: LedgerRegistry(provider: memory, ledger: InMemoryLedger(), ownerID: "memory"))
        let target = DNSTarget(config: config.providers[0], instance: "memory", registry: registry, planning: PlanningRun(), close: {})
        let clock = ManualClock()
        let status = DaemonStatus(instances: ["memory"])
        let reconciler = TargetReconciler(
            target: target, sources: RouteSources(manifests: [routes.path], cluster: nil), annotationPrefixes: config.sources.annotationPrefixes,
            dryRun: false, debounce: .seconds(1), resync: .seconds(3600), initialBackoff: .seconds(2), status: status, clock: clock,
            logger: Logger(label: "test"))
        let reads = { registry.reads.withLock { $0 } }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reconciler.run() }
            defer { group.cancelAll(); clock.cancelAll() }

            // The first run waits out the debounce, then writes the route's record.
            try await Self.waitFor("the first debounce and the resync timer") { clock.sleepers == 2 }
            #expect(reads() == 0)
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the first run") { reads() == 1 && clock.sleepers == 1 }
            #expect(await memory.records().map(\.name.text) == ["wiki.home.test"])
            #expect(status.notReadyReasons() == [])

            // Ten pokes, some before and some during the debounce: one run.
            for _ in 0..<5 { reconciler.trigger.poke() }
            try await Self.waitFor("the burst's debounce") { clock.sleepers == 2 }
            for _ in 0..<5 { reconciler.trigger.poke() }
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the burst's run") { reads() == 2 && clock.sleepers == 1 }
            clock.advance(by: .seconds(1))
            try await Task.sleep(for: .milliseconds(50))
            #expect(reads() == 2, "pokes during the debounce collapse into the run after it")

            // A failed cycle is retried after the back-off, on its own.
            registry.failing.withLock { $0 = true }
            reconciler.trigger.poke()
            try await Self.waitFor("the failing run's debounce") { clock.sleepers == 2 }
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the failed run and its back-off") { reads() == 3 && clock.sleepers == 2 }
            #expect(status.targets["memory"]?.lastError == "provider down")
            registry.failing.withLock { $0 = false }
            clock.advance(by: .seconds(2))
            try await Self.waitFor("the retry's debounce") { clock.sleepers == 2 }
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the retry") { reads() == 4 && clock.sleepers == 1 }
            #expect(status.targets["memory"]?.lastError == nil)

            // The resync runs with no change.
            clock.advance(by: .seconds(3600))
            try await Self.waitFor("the resync's debounce") { clock.sleepers == 2 }
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the resync run") { reads() == 5 && clock.sleepers == 1 }
            #expect(await memory.records().count == 1)
        }
    }

    @Test("a follower plans but does not apply; the leader applies")
    func followerPlansOnly() async throws {
        let folder = try Repository.temporaryFolder("reconciler-follower")
        let routes = folder.appendingPathComponent("routes.yaml")
        try [GatewayFixtures.gatewayYAML, GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])]
            .joined(separator: "\n---\n").write(to: routes, atomically: true, encoding: .utf8)
        let configFile = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster: { name: lab, network: 198.18.0.0/24, nodes: [{ name: n1, address: 198.18.0.21 }] }
            providers:
              - { name: memory, type: pihole, urls: [http://127.0.0.1:9], select: { domainFilters: [home.test] } }
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let config = try NetAgentConfig.load(file: configFile.path)
        let memory = InMemoryProvider()
        let target = DNSTarget(config: config.providers[0], instance: "memory",
                               registry: LedgerRegistry(provider: memory, ledger: InMemoryLedger(), ownerID: "memory"),
                               planning: PlanningRun(), close: {})
        let objects = await RouteSources(manifests: [routes.path], cluster: nil).objects()

        let following = await TargetReconciler<ContinuousClock>.cycle(
            target, objects: objects, annotationPrefixes: config.sources.annotationPrefixes, dryRun: false, leadership: Leadership())
        #expect(following.notLeader && following.ok && following.report == nil)
        guard case .success(let plan) = following.result else { Issue.record("\(following.result)"); return }
        #expect(plan.changes.creates.map(\.name.text) == ["wiki.home.test"])
        #expect(await memory.applyCalls == 0)
        #expect(await memory.records().isEmpty)

        let leading = await TargetReconciler<ContinuousClock>.cycle(
            target, objects: objects, annotationPrefixes: config.sources.annotationPrefixes, dryRun: false,
            leadership: .unconditional())
        #expect(!leading.notLeader && leading.report?.created == 1)
        #expect(await memory.records().map(\.name.text) == ["wiki.home.test"])

        // A first run with an empty ledger adopts the matching record: recorded although nothing changes.
        let ledger = InMemoryLedger()
        let adopting = DNSTarget(config: config.providers[0], instance: "memory",
                                 registry: LedgerRegistry(provider: memory, ledger: ledger, ownerID: "memory"),
                                 planning: PlanningRun(), close: {})
        let adopted = await TargetReconciler<ContinuousClock>.cycle(
            adopting, objects: objects, annotationPrefixes: config.sources.annotationPrefixes, dryRun: false)
        #expect(adopted.ok && adopted.report == nil)
        #expect(await ledger.entries().map(\.key.name.text) == ["wiki.home.test"])
    }
}
