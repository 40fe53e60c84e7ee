import Config
import DNSCore
import Foundation
import Kube
import Lab
import NetAgent
import NetIO
import State
import TestSupport
import Testing

/// From routes in manifests to records answered by Pi-hole's dnsmasq, through the
/// configuration: `netagent plan --config` shows each instance's changes, a reconcile makes
/// them, the names resolve, and a hand-made record is left alone.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholePlanTests {
    static let manifests = [
        GatewayFixtures.gatewayYAML,
        GatewayFixtures.routeYAML("grafana", namespace: "monitoring", hosts: ["grafana.home.test", "metrics.home.test"]),
        GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"]),
    ].joined(separator: "\n---\n") + """

        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: envoy-internal-alias
          namespace: network
          annotations: { external-dns.alpha.kubernetes.io/target: envoy-internal.home.test }
        spec:
          gatewayClassName: envoy
          listeners:
            - { name: https, port: 443, protocol: HTTPS, hostname: "docs.home.test", allowedRoutes: { namespaces: { from: All } } }
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: { name: docs, namespace: docs }
        spec:
          parentRefs: [{ name: envoy-internal-alias, namespace: network }]
        """

    static func config(folder: URL, urls: [String]) -> String {
        """
        cluster:
          name: home
          network: 198.18.0.0/24
          nodes:
            - { name: n1, address: 198.18.0.21 }
        sources:
          manifests: [\(folder.appendingPathComponent("routes.yaml").path)]
        providers:
          - name: pihole
            type: pihole
            urls: [\(urls.joined(separator: ", "))]
            passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
            select: { domainFilters: [home.test] }
            policy: sync
        state:
          path: \(folder.appendingPathComponent("state.sqlite").path)
        """
    }

    @Test func manifestsToPiholeAnsweredByDnsmasq() async throws {
        let folder = try Repository.temporaryFolder("pihole-plan")
        try Self.manifests.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(
            ["NETAGENT_TEST_PIHOLE_PASSWORD": "pihole-lab-password"]) { $1 }
        // Made by hand in each Pi-hole: the gateway's own name (dnsmasq serves a CNAME only to a
        // name it knows), and a printer on the first.
        var handMade = PiholeSimulator.Options()
        handMade.hosts = ["198.18.0.50 envoy-internal.home.test", "198.18.0.99 printer.home.test"]
        var gatewayOnly = PiholeSimulator.Options()
        gatewayOnly.hosts = ["198.18.0.50 envoy-internal.home.test"]
        let first = try PiholeSimulator(handMade)
        let second = try PiholeSimulator(gatewayOnly)
        try await first.withRunning { firstURL in
            try await second.withRunning { secondURL in
                let configFile = folder.appendingPathComponent("netagent.yaml")
                try Self.config(folder: folder, urls: [firstURL, secondURL]).write(to: configFile, atomically: true, encoding: .utf8)

                // 1. The dry run shows each instance's creates and writes nothing.
                let binary = try #require(Netagent.binary, "the netagent binary is not built")
                let plan = try await Netagent.run(binary, ["plan", "--config", configFile.path, "--output", "json"], environment: environment)
                #expect(plan.status == 0, "\(plan.stderr)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
                let providers = try #require(object["providers"] as? [[String: Any]])
                #expect(providers.count == 2)
                for provider in providers {
                    let creates = (provider["creates"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                    #expect(creates == ["docs.home.test", "grafana.home.test", "metrics.home.test", "wiki.home.test"], "\(provider)")
                    #expect((provider["deletes"] as? [Any])?.isEmpty == true)
                }
                #expect(await first.hosts() == handMade.hosts)
                #expect(await second.counters().calls > 0)

                // 2. A reconcile through the same wiring makes the changes on both instances.
                let config = try NetAgentConfig.load(file: configFile.path)
                let secrets = try config.resolveSecrets(environment: environment)
                var objects = SourceObjects()
                objects.add(ManifestLoader.load(paths: config.sources.manifests))
                let state = try StateStore(path: config.state.path)
                for target in DNSTarget.all(config: config, secrets: secrets, state: state) {
                    let desired = try objects.desired(select: target.config.select, annotationPrefixes: config.sources.annotationPrefixes)
                    let (_, report) = try await target.planning.reconcile(desired: desired.endpoints, registry: target.registry)
                    #expect(report.created == 4 && report.isComplete, "\(target.instance): \(report)")
                    await target.close()
                }

                // 3. Both dnsmasqs answer; the hand-made record is still there.
                let resolver = Resolver(options: .init(timeout: .seconds(1)))
                defer { resolver.shutdown() }
                for simulator in [first, second] {
                    let server = try DNSServer(parsing: simulator.dnsAddress)
                    let grafana = try await resolver.query("grafana.home.test", type: .a, server: server)
                    #expect(grafana.records.map(\.data) == [.a("198.18.0.50")])
                    // A Gateway whose target annotation names a host gives CNAMEs.
                    let docs = try await resolver.query("docs.home.test", type: .a, server: server)
                    #expect(docs.cnameChain == ["envoy-internal.home.test"])
                    #expect(docs.records.map(\.data) == [.a("198.18.0.50")])
                    #expect(await simulator.activeSessions() == 0)
                }
                #expect(await first.hosts().contains("198.18.0.99 printer.home.test"))

                // 4. A second dry run finds nothing to change.
                let again = try await Netagent.run(binary, ["plan", "--config", configFile.path, "--output", "json"], environment: environment)
                let providersAgain = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["providers"] as? [[String: Any]]
                #expect(providersAgain?.allSatisfy { ($0["creates"] as? [Any])?.isEmpty == true && ($0["deletes"] as? [Any])?.isEmpty == true } == true,
                        "\(again.stdout)")
            }
        }
    }
}
