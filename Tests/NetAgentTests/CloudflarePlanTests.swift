import Config
import DNSCore
import Foundation
import Kube
import Lab
import NetAgent
import TestSupport
import Testing

/// From routes in manifests to records in the Cloudflare simulator, through the configuration:
/// `netagent plan --config` shows each zone's changes, a reconcile makes them (a Gateway aimed
/// at a tunnel gives a proxied CNAME to `<id>.cfargotunnel.com`), and a second plan is empty.
struct CloudflarePlanTests {
    static let tunnel = "11111111-2222-3333-4444-555555555555"

    static let manifests = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: envoy-external
          namespace: network
          annotations: { external-dns.alpha.kubernetes.io/target: \(tunnel).cfargotunnel.com }
        spec:
          gatewayClassName: envoy
          listeners:
            - { name: https, port: 443, protocol: HTTPS, allowedRoutes: { namespaces: { from: All } } }
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: { name: jellyfin, namespace: media }
        spec:
          parentRefs: [{ name: envoy-external, namespace: network }]
          hostnames: [jellyfin.home.test, photos.other.test]
        """

    static func config(folder: URL, url: String) -> String {
        """
        cluster:
          name: home
          network: 198.18.0.0/24
          nodes:
            - { name: n1, address: 198.18.0.21 }
        sources:
          manifests: [\(folder.appendingPathComponent("routes.yaml").path)]
        providers:
          - name: cloudflare
            type: cloudflare
            apiURL: \(url)
            apiTokenEnv: NETAGENT_TEST_CF_TOKEN
            zones: [home.test, other.test]
            owner: home
            policy: sync
        """
    }

    static func plan(_ binary: URL, _ configFile: URL, _ environment: [String: String]) async throws -> Netagent.Outcome {
        try await Netagent.run(binary, ["plan", "--config", configFile.path, "--output", "json"], environment: environment)
    }

    @Test func manifestsToATunnelCNAMEPerZone() async throws {
        let folder = try Repository.temporaryFolder("cloudflare-plan")
        try Self.manifests.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_TEST_CF_TOKEN": "lab-token"]) { $1 }
        let home = SimulatedZone(name: "home.test"), other = SimulatedZone(name: "other.test")
        let simulator = CloudflareSimulator(CloudflareSimulator.Options(zones: [home, other]))
        try await simulator.withRunning { url in
            let configFile = folder.appendingPathComponent("netagent.yaml")
            try Self.config(folder: folder, url: url).write(to: configFile, atomically: true, encoding: .utf8)

            // 1. The dry run shows one entry per zone, each with its create, and writes nothing.
            let binary = try #require(Netagent.binary, "the netagent binary is not built")
            let plan = try await Self.plan(binary, configFile, environment)
            #expect(plan.status == 0, "\(plan.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
            let providers = try #require(object["providers"] as? [[String: Any]])
            #expect(providers.compactMap { $0["instance"] as? String } == ["cloudflare zone home.test", "cloudflare zone other.test"])
            #expect(providers.map { ($0["creates"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? [] }
                == [["jellyfin.home.test"], ["photos.other.test"]], "\(plan.stdout)")
            #expect(await simulator.requests().allSatisfy { !$0.isWrite })

            // 2. A reconcile through the same wiring makes them.
            let config = try NetAgentConfig.load(file: configFile.path)
            let secrets = try config.resolveSecrets(environment: environment)
            var objects = SourceObjects()
            objects.add(ManifestLoader.load(paths: config.sources.manifests))
            for target in DNSTarget.all(config: config, secrets: secrets, state: nil) {
                let desired = try objects.desired(select: target.config.select, annotationPrefixes: config.sources.annotationPrefixes)
                let (_, report) = try await target.planning.reconcile(desired: desired.endpoints, registry: target.registry)
                #expect(report.created == 2 && report.isComplete, "\(target.instance): \(report)")
            }
            let jellyfin = await simulator.records(zoneID: home.id).filter { $0.type == "CNAME" }
            #expect(jellyfin.map { "\($0.name) \($0.content) \($0.proxied)" } == ["jellyfin.home.test \(Self.tunnel).cfargotunnel.com true"])

            // 3. A second dry run finds nothing to change.
            let again = try await Self.plan(binary, configFile, environment)
            let providersAgain = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["providers"] as? [[String: Any]]
            #expect(providersAgain?.count == 2)
            #expect(providersAgain?.allSatisfy { ($0["creates"] as? [Any])?.isEmpty == true && ($0["updates"] as? [Any])?.isEmpty == true } == true,
                    "\(again.stdout)")
        }
    }
}
