import Cloudflare
import Config
import DNSCore
import Foundation
import Lab
import NetAgent
import Probes
import Testing

/// The adapter the daemon hands the tunnel probe, against the Cloudflare simulator.
struct TunnelStatusSourceTests {
    @Test func theProbeSeesTheAPIsStatusAndLiveConnections() async throws {
        let id = "11111111-2222-3333-4444-555555555555"
        var options = CloudflareSimulator.Options()
        options.tunnels = [.init(id: id, status: "healthy", connectors: [
            .init(connections: [.init(colo: "fra08"), .init(colo: "fra10"), .init(colo: "ams01", pendingReconnect: true)]),
        ])]
        let simulator = CloudflareSimulator(options)
        try await simulator.withRunning { url in
            let source = CloudflareTunnelStatusSource(
                client: CloudflareClient(baseURL: url, token: "lab-token"), accountID: options.accountID)
            let healthy = try await source.status(ofTunnel: id)
            #expect(healthy == TunnelStatus(health: .healthy, connections: 2))
            await simulator.setTunnel(.init(id: id, status: "down"))
            let down = try await source.status(ofTunnel: id)
            #expect(down == TunnelStatus(health: .down, connections: 0))
        }
    }
}

/// Settings from the configuration file turn into a working provider and registry.
struct CloudflareWiringTests {
    @Test func settingsMakeARegistryThatReconcilesTheSimulator() async throws {
        let simulator = CloudflareSimulator()
        try await simulator.withRunning { url in
            let settings = CloudflareSettings(
                apiURL: try #require(URL(string: url)), apiToken: .env("CF_TOKEN"), zones: [try DNSName("example.test")],
                proxied: true, owner: "home", txtPrefix: "txt.")
            let zones = try settings.makeZoneRegistries(name: "cloudflare", token: Secret("lab-token"))
            #expect(zones.map(\.provider.name) == ["cloudflare zone example.test"])
            let (provider, registry) = try #require(zones.first)
            try await provider.preflight()
            let desired = [Endpoint(name: try DNSName("app.example.test"), type: .a, targets: ["198.18.0.10"])]
            let (_, report) = try await PlanningRun().reconcile(desired: desired, registry: registry)
            #expect(report.created == 2)
            let records = await simulator.records(zoneID: simulator.options.zones[0].id)
            #expect(Set(records.map { "\($0.name) \($0.type) \($0.proxied)" }) == [
                "app.example.test A true", "txt.a-app.example.test TXT false",
            ])
        }
    }

    @Test func registryCommentFromTheFileKeepsOwnershipInTheCommentAndWritesNoTXT() async throws {
        let yaml = ConfigFixtures.minimal + """
            providers:
              - { name: cf, type: cloudflare, zones: [example.test], apiTokenEnv: T, owner: home, registry: comment, commentMaxLength: 500 }
            """
        let config = try #require(ConfigFixtures.load(yaml))
        guard case .cloudflare(var settings) = try #require(config.providers.first).kind else {
            Issue.record("not a Cloudflare provider")
            return
        }
        #expect(settings.registry == .comment && settings.commentMaxLength == 500)
        let defaults = try #require(ConfigFixtures.load(ConfigFixtures.minimal + """
            providers:
              - { name: cf, type: cloudflare, zones: [example.test], apiTokenEnv: T }
            """))
        if case .cloudflare(let plain) = try #require(defaults.providers.first).kind {
            #expect(plain.registry == .txt && plain.commentMaxLength == 100)
        }
        let simulator = CloudflareSimulator()
        try await simulator.withRunning { url in
            settings.apiURL = try #require(URL(string: url))
            let (_, registry) = try #require(try settings.makeZoneRegistries(name: "cf", token: Secret("lab-token")).first)
            #expect(registry is CommentRegistry)
            let desired = [Endpoint(name: try DNSName("app.example.test"), type: .a, targets: ["198.18.0.10"],
                                    labels: EndpointLabels(resource: "httproute/default/app"))]
            let (_, report) = try await PlanningRun().reconcile(desired: desired, registry: registry)
            #expect(report.created == 1 && report.isComplete)
            let records = await simulator.records(zoneID: simulator.options.zones[0].id)
            #expect(records.map { "\($0.name) \($0.type) \($0.comment ?? "-")" }
                == ["app.example.test A heritage=netagent,owner=home,kind=httproute"])
            let (again, _) = try await PlanningRun().reconcile(desired: desired, registry: registry)
            #expect(!again.hasChanges)
        }
    }
}
