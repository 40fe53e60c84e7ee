@testable import Config
import DNSCore
import Foundation
@testable import NetAgent
import NetIO
import Testing

@Suite("The example configuration")
struct ConfigExampleTests {
    @Test("loads with the cluster of the seed: 10 nodes, k8s-4 and k8s-10 offline")
    func cluster() throws {
        guard let path = ConfigFixtures.example() else { return }
        let config = try NetAgentConfig.load(file: path)
        #expect(config.cluster.name == "home")
        #expect(config.cluster.network == (try CIDR("10.0.60.0/24")))
        #expect(config.cluster.gateway == (IPAddress("10.0.60.1")))
        #expect(config.cluster.vip == (IPAddress("10.0.60.10")))
        #expect(config.cluster.mtu == 1500)
        #expect(config.cluster.nodes.count == 10)
        #expect(config.cluster.nodes.map(\.name) == (1...10).map { "k8s-\($0)" })
        #expect(config.cluster.offlineNodes.map(\.name) == ["k8s-4", "k8s-10"])
        #expect(config.cluster.offlineNodes.map(\.offline) == ["PSU not working", "not starting"])
        #expect(config.cluster.nodes.filter { $0.role == .controlplane }.map(\.name) == ["k8s-1", "k8s-3", "k8s-5"])
        #expect(config.cluster.nodes.last?.address == (IPAddress("10.0.60.30")))
    }

    @Test("yields two providers with their typed settings, no secret read")
    func providers() throws {
        guard let path = ConfigFixtures.example() else { return }
        let config = try NetAgentConfig.load(file: path)
        try #require(config.providers.count == 2)
        let cloudflare = config.providers[0]
        #expect(cloudflare.name == "cloudflare")
        #expect(cloudflare.policy == .sync)
        #expect(cloudflare.select == SelectFilters(gatewayName: "envoy-external"))
        guard case .cloudflare(let cf) = cloudflare.kind else {
            Issue.record("providers[0] is not cloudflare: \(cloudflare.kind)")
            return
        }
        #expect(cf.apiURL.absoluteString == "https://api.cloudflare.com/client/v4")
        #expect(cf.apiToken == .file("/var/run/secrets/netagent/cloudflare-api-token"))
        #expect(cf.accountID == "0123456789abcdef0123456789abcdef")
        #expect(cf.zones == [try DNSName("example.com")])
        #expect(cf.proxied)
        #expect(cf.owner == "home")
        #expect(cf.batchChunkSize == 200)

        let pihole = config.providers[1]
        #expect(pihole.name == "pihole")
        #expect(pihole.select == SelectFilters(gatewayName: "envoy-internal", domainFilters: ["example.com"]))
        guard case .pihole(let ph) = pihole.kind else {
            Issue.record("providers[1] is not pihole: \(pihole.kind)")
            return
        }
        #expect(ph.urls.map(\.absoluteString) == ["http://pihole.network.svc.cluster.local"])
        #expect(ph.password == .env("PIHOLE_PASSWORD"))
    }

    @Test("reconcile, probes, alerting, state and server")
    func rest() throws {
        guard let path = ConfigFixtures.example() else { return }
        let config = try NetAgentConfig.load(file: path)
        #expect(config.sources.kubernetes == SourcesConfig.KubernetesSource())
        #expect(config.sources.manifests.isEmpty)
        #expect(config.sources.annotationPrefixes == SourcesConfig.defaultAnnotationPrefixes)
        #expect(config.reconcile == ReconcileConfig(resync: .seconds(300), debounce: .milliseconds(500),
                                                    maxDeleteFraction: 0.5, dryRun: false))
        #expect(config.leaderElection == LeaderElectionConfig())
        #expect(config.probes.interval == .seconds(30))
        #expect(config.probes.enabledKinds == ["dns", "nodes", "vip", "mtu", "tunnel"])
        #expect(config.probes.dns?.servers.map(\.name) == ["pihole", "cloudflare", "cloudflare-2"])
        #expect(config.probes.dns?.servers.map(\.port) == [53, 53, 53])
        #expect(config.probes.nodes?.tcpPorts == [50000, 10250])
        #expect(config.probes.nodes?.controlPlanePorts == [6443])
        #expect(config.probes.vip?.schedule.interval == .seconds(1))
        #expect(config.probes.vip?.schedule.timeout == .seconds(1))
        #expect(config.probes.mtu?.expected == 1500)
        #expect(config.probes.tunnel?.minConnections == 2)
        #expect(config.probes.tunnel?.tunnelID.uuidString.lowercased() == "11111111-2222-3333-4444-555555555555")
        let alerting = try #require(config.alerting)
        #expect(alerting.smtp.url.absoluteString == "smtp://smtp-relay.default.svc.cluster.local:25")
        #expect(alerting.smtp.to == ["owner@example.com"])
        #expect(alerting.smtp.starttls == .opportunistic)
        #expect(alerting.forDuration == .seconds(120))
        #expect(alerting.repeatInterval == .seconds(4 * 3600))
        #expect(config.state.path == "/var/lib/netagent/state.sqlite")
        #expect(config.server.listen.description == "0.0.0.0:9099")
    }

    @Test("summary names the offline nodes, the providers and the probe kinds")
    func summary() throws {
        guard let path = ConfigFixtures.example() else { return }
        let summary = try NetAgentConfig.load(file: path).summary
        #expect(summary.contains("cluster home: 10 nodes, 2 offline: k8s-4 (PSU not working), k8s-10 (not starting)"))
        #expect(summary.contains("providers: cloudflare (cloudflare, sync), pihole (pihole, sync)"))
        #expect(summary.contains("probes: dns, nodes, vip, mtu, tunnel"))
    }

    @Test("the minimal file gets the documented defaults")
    func defaults() throws {
        let config = try #require(ConfigFixtures.load(ConfigFixtures.minimal))
        #expect(config.cluster.mtu == 1500)
        #expect(config.cluster.nodes.first?.role == .worker)
        #expect(config.providers.isEmpty)
        #expect(config.reconcile == ReconcileConfig())
        #expect(config.probes.enabledKinds.isEmpty)
        #expect(config.alerting == nil)
        #expect(config.state.path == StateConfig.defaultPath)
        #expect(config.server.listen.description == "0.0.0.0:9099")
        #expect(config.sources.kubernetes == nil)
    }
}
