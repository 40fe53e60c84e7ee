import Config
import DNSCore
import Foundation
import Kube
import Lab
import NetAgent
import Testing
import TestSupport

/// The Cloudflare Tunnel's own name, two ways: the seed's DNSEndpoint (external-dns's `crd`
/// source, proxied by the provider's `proxied: true` as the seed's `--cloudflare-proxied`
/// does) and `providers[].tunnel` in the configuration (always proxied). Both end as proxied
/// CNAMEs to `<id>.cfargotunnel.com` in the Cloudflare simulator through `netagent run
/// --once`; a proxied record aimed at a private address is refused by name and never written.
struct TunnelRecordTests {
    static let tunnel = "11111111-2222-3333-4444-555555555555"
    static let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_TEST_CF_TOKEN": "lab-token"]) { $1 }

    /// onedr0p's `cloudflare-tunnel` DNSEndpoint (../shared/fixtures/real-world), its
    /// `${CLOUDFLARE_TUNNEL_ID}` substituted, plus swibrow's unproxied private A record and
    /// one private A record left to the provider's proxied default.
    static let manifests = """
        apiVersion: externaldns.k8s.io/v1alpha1
        kind: DNSEndpoint
        metadata: { name: cloudflare-tunnel, namespace: network }
        spec:
          endpoints:
            - dnsName: external.home.test
              recordType: CNAME
              targets: [\(tunnel).cfargotunnel.com]
        ---
        apiVersion: externaldns.k8s.io/v1alpha1
        kind: DNSEndpoint
        metadata: { name: envoy-internal, namespace: network }
        spec:
          endpoints:
            - dnsName: internal.home.test
              recordType: A
              targets: ["10.20.10.238"]
              providerSpecific:
                - { name: external-dns.alpha.kubernetes.io/cloudflare-proxied, value: "false" }
            - dnsName: leak.home.test
              recordType: A
              targets: ["192.168.69.126"]
        """

    static func config(folder: URL, url: String) -> String {
        """
        \(AgentYAML.loopbackCluster)
        sources:
          manifests: [\(folder.appendingPathComponent("records.yaml").path)]
        providers:
          - name: cloudflare
            type: cloudflare
            apiURL: \(url)
            apiTokenEnv: NETAGENT_TEST_CF_TOKEN
            zones: [home.test]
            owner: home
            proxied: true
            tunnel:
              hostnames: [tunnel.home.test]
        probes:
          tunnel:
            readyURL: http://127.0.0.1:9/ready
            tunnelID: "\(tunnel)"
            enabled: false
        state:
          path: \(folder.appendingPathComponent("state.sqlite").path)
        """
    }

    @Test("the seed's tunnel DNSEndpoint and providers[].tunnel end as proxied CNAMEs; a proxied private A is refused")
    func tunnelRecordsArePublishedProxied() async throws {
        let folder = try Repository.temporaryFolder("tunnel-records")
        try Self.manifests.write(to: folder.appendingPathComponent("records.yaml"), atomically: true, encoding: .utf8)
        let zone = SimulatedZone(name: "home.test")
        let simulator = CloudflareSimulator(CloudflareSimulator.Options(zones: [zone]))
        try await simulator.withRunning { url in
            let configFile = folder.appendingPathComponent("netagent.yaml")
            try Self.config(folder: folder, url: url).write(to: configFile, atomically: true, encoding: .utf8)

            // In process, through the daemon's own cycle: the refusal is named in the report.
            let config = try NetAgentConfig.load(file: configFile.path)
            let secrets = try config.resolveSecrets(environment: Self.environment)
            var objects = SourceObjects()
            objects.add(ManifestLoader.load(paths: config.sources.manifests))
            let targets = DNSTarget.all(config: config, secrets: secrets, state: nil)
            #expect(targets.count == 1)
            let outcome = await TargetReconciler<ContinuousClock>.cycle(try #require(targets.first), objects: objects,
                                                                         annotationPrefixes: [], dryRun: false)
            let failures = try #require(outcome.report?.failures)
            #expect(failures.map(\.key.description) == ["leak.home.test A"])
            #expect(failures.first?.message.contains("192.168.69.126, a private (192.168.0.0/16) address") == true, "\(failures)")

            let records = await simulator.records(zoneID: zone.id)
            let published = records.filter { $0.type != "TXT" }.map { "\($0.type) \($0.name) \($0.content) proxied=\($0.proxied)" }.sorted()
            #expect(published == [
                "A internal.home.test 10.20.10.238 proxied=false",
                "CNAME external.home.test \(Self.tunnel).cfargotunnel.com proxied=true",
                "CNAME tunnel.home.test \(Self.tunnel).cfargotunnel.com proxied=true",
            ])
            // Nothing was written for the refused record, not even its ownership TXT.
            #expect(!records.contains { $0.name.contains("leak") }, "\(records.map(\.name))")

            // `netagent run --once` finds the tunnel records in place: nothing to create or update.
            let binary = try #require(Netagent.binary, "the netagent binary is not built")
            let run = try await Netagent.run(binary, ["run", "--once", "--config", configFile.path], environment: Self.environment)
            #expect(run.stdout.contains("reconcile cloudflare zone home.test: 1 to create, 0 to update, 0 to delete"), "\(run.stdout)\n\(run.stderr)")
            #expect(await simulator.records(zoneID: zone.id).filter { $0.type != "TXT" }.count == 3)
        }
    }

    @Test("netagent run --once publishes the tunnel CNAME from the configuration alone")
    func runPublishesTheConfiguredTunnelName() async throws {
        let folder = try Repository.temporaryFolder("tunnel-config")
        try "".write(to: folder.appendingPathComponent("records.yaml"), atomically: true, encoding: .utf8)
        let zone = SimulatedZone(name: "home.test")
        let simulator = CloudflareSimulator(CloudflareSimulator.Options(zones: [zone]))
        try await simulator.withRunning { url in
            let configFile = folder.appendingPathComponent("netagent.yaml")
            try Self.config(folder: folder, url: url).write(to: configFile, atomically: true, encoding: .utf8)
            let binary = try #require(Netagent.binary, "the netagent binary is not built")
            _ = try await Netagent.run(binary, ["run", "--once", "--config", configFile.path], environment: Self.environment)
            let records = await simulator.records(zoneID: zone.id)
            #expect(records.filter { $0.type == "CNAME" }.map { "\($0.name) \($0.content) \($0.proxied)" }
                == ["tunnel.home.test \(Self.tunnel).cfargotunnel.com true"])
            #expect(records.contains { $0.type == "TXT" && $0.content.contains("external-dns/resource=config/cloudflare/tunnel") })
        }
    }

    @Test("providers[].tunnel: hostnames required, a wildcard refused, the id from probes.tunnel or its own")
    func tunnelConfigValidation() throws {
        func load(_ tunnel: String, probe: Bool = true) throws -> NetAgentConfig {
            let text = """
                cluster: { name: home, network: 198.18.0.0/24, nodes: [{ name: n1, address: 198.18.0.21 }] }
                providers:
                  - name: cloudflare
                    type: cloudflare
                    apiTokenEnv: T
                    zones: [home.test]
                    tunnel: \(tunnel)
                """ + (probe ? "\nprobes: { tunnel: { readyURL: \"http://127.0.0.1:9/ready\", tunnelID: \"\(Self.tunnel)\" } }\n" : "\n")
            return try NetAgentConfig.parse(yaml: text, file: "t.yaml", baseDirectory: "/tmp")
        }
        let fromProbe = try load("{ hostnames: [a.home.test] }")
        #expect(fromProbe.providers.first?.configuredRecords.map { "\($0.name) \($0.targets[0]) \($0.providerSpecific.cloudflareProxied ?? false)" }
            == ["a.home.test \(Self.tunnel).cfargotunnel.com true"])
        let own = try load("{ id: AAAAAAAA-2222-3333-4444-555555555555, hostnames: [a.home.test] }", probe: false)
        #expect(own.providers.first?.configuredRecords.first?.targets == ["aaaaaaaa-2222-3333-4444-555555555555.cfargotunnel.com"])
        #expect(throws: ConfigError.self) { try load("{ hostnames: [a.home.test] }", probe: false) }
        #expect(throws: ConfigError.self) { try load("{ hostnames: [] }") }
        #expect(throws: ConfigError.self) { try load("{ hostnames: [\"*.home.test\"] }") }
        #expect(throws: ConfigError.self) { try load("{ id: nope, hostnames: [a.home.test] }") }
    }
}

/// A lasting source problem is said once across every reconciler sharing the sources, and again
/// only after it went away and came back (a missing DNSEndpoint CRD is not logged every cycle).
struct SourceProblemsSaidOnceTests {
    @Test func saidOnceThenAgainAfterItCameBack() {
        let sources = RouteSources(manifests: [], cluster: nil)
        var objects = SourceObjects()
        objects.notes = ["dnsendpoints.externaldns.k8s.io: not served"]
        objects.problems = ["gateways.gateway.networking.k8s.io: forbidden"]
        let first = sources.unsaid(objects)
        #expect(first.notes == objects.notes && first.problems == objects.problems)
        // The next cycle, or another reconciler: nothing new to say.
        #expect(sources.unsaid(objects).notes.isEmpty && sources.unsaid(objects).problems.isEmpty)
        // The CRD is installed; later it goes missing again: said again.
        var healed = objects
        healed.notes = []
        #expect(sources.unsaid(healed).notes.isEmpty)
        #expect(sources.unsaid(objects).notes == objects.notes)
    }
}

/// DNSEndpoint statuses are a write to the cluster: made by the replica that leads, never by a
/// follower or a dry run (`--dry-run`: plan and log, never write).
struct DNSEndpointStatusWriteTests {
    @Test func onlyALeadingNonDryRunWritesObservedGeneration() async throws {
        let simulator = KubeAPISimulator()
        _ = try await simulator.create(.dnsEndpoints, json: #"{"metadata":{"name":"tunnel","namespace":"network"},"spec":{"endpoints":[{"dnsName":"external.home.test","recordType":"CNAME","targets":["t.cfargotunnel.com"]}]}}"#)
        try await simulator.withRunning { url in
            let puts = { await simulator.requests().filter { $0.method == "PUT" && $0.path.hasSuffix("/status") }.count }
            for (writes, expected) in [(nil, 0), (Leadership(), 0), (Leadership.unconditional(), 1)] as [(Leadership?, Int)] {
                let cluster = ClusterRoutes(client: KubeClient(connection: ClusterConnection(server: url)))
                let sources = RouteSources(manifests: [], cluster: cluster, statusWrites: writes)
                let running = Task { await cluster.run() }
                defer { running.cancel() }
                try await eventually("the informers have listed") { await sources.isReady() }
                let objects = await sources.objects()
                #expect(objects.dnsEndpoints.count == 1)
                #expect(await puts() == expected, "statusWrites: \(String(describing: writes?.isLeader))")
            }
        }
    }
}
