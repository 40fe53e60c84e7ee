import Config
import DNSCore
import Foundation
import Kube
import Lab
import NetAgent
import State
import Testing

/// The Pi-hole ledger in a ConfigMap, against the Kubernetes API simulator on loopback.
@Suite("Pi-hole ledger in a ConfigMap")
struct ConfigMapLedgerTests {
    static let scope = "pihole/home/http://10.0.60.53"

    static func entry(_ name: String, _ type: RecordType = .a, resource: String? = nil) throws -> LedgerEntry {
        LedgerEntry(key: Endpoint.Key(name: try DNSName(name), type: type), resource: resource)
    }

    static func ledger(_ url: String) -> ConfigMapLedger {
        ConfigMapLedger(client: KubeClient(connection: ClusterConnection(server: url)), namespace: "network", scope: scope)
    }

    static func data(_ simulator: KubeAPISimulator, name: String) async throws -> [String: String] {
        let map = try #require(await simulator.objects(.configMaps).first { $0.name == name })
        let object = try #require(try JSONSerialization.jsonObject(with: map.json) as? [String: Any])
        return try #require(object["data"] as? [String: String])
    }

    @Test("a name Kubernetes accepts, one per scope")
    func names() {
        #expect(ConfigMapLedger.name(scope: Self.scope).hasPrefix("netagent-ledger-pihole-home-http-10-0-60-53-"))
        #expect(ConfigMapLedger.name(scope: "pihole/home/http://10.0.60.53") != ConfigMapLedger.name(scope: "pihole/home/http://10-0.60.53"))
        let long = ConfigMapLedger.name(scope: "pihole/" + String(repeating: "Ü-x", count: 200))
        #expect(long.count <= 253 && long.wholeMatch(of: /[a-z0-9]([-a-z0-9]*[a-z0-9])?/) != nil, "\(long)")
    }

    @Test("records round-trip through the ConfigMap and a second reader sees them")
    func roundTrip() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let ledger = Self.ledger(url)
            #expect(try await ledger.entries().isEmpty, "no ConfigMap yet: an empty ledger")
            try await ledger.record(adding: [try Self.entry("wiki.home.test", resource: "httproute/docs/wiki"),
                                             try Self.entry("app.home.test", .cname)], removing: [])
            try await ledger.record(adding: [try Self.entry("grafana.home.test")],
                                    removing: [Endpoint.Key(name: try DNSName("app.home.test"), type: .cname)])
            let data = try await Self.data(simulator, name: ledger.name)
            #expect(data["scope"] == Self.scope)
            #expect(data["records"] == "grafana.home.test A\nwiki.home.test A httproute/docs/wiki\n")

            let reader = Self.ledger(url)
            #expect(Set(try await reader.entries()) == [try Self.entry("grafana.home.test"),
                                                         try Self.entry("wiki.home.test", resource: "httproute/docs/wiki")])
            let verbs = Set(await simulator.requests().filter { $0.path.contains("/configmaps") }.map(\.method))
            #expect(verbs.isSubset(of: ["GET", "POST", "PUT"]), "\(verbs)")
        }
    }

    @Test("a write that lost a race reads again and keeps the other writer's change")
    func survivesConflictingWriter() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let first = Self.ledger(url)
            let second = Self.ledger(url)
            // Both find no ConfigMap, both create: one gets AlreadyExists and merges.
            _ = try await first.entries()
            _ = try await second.entries()
            try await first.record(adding: [try Self.entry("a.home.test")], removing: [])
            try await second.record(adding: [try Self.entry("b.home.test")], removing: [])
            // Both read; the second writes; the first's write is stale (409) and must merge.
            _ = try await first.entries()
            _ = try await second.entries()
            try await second.record(adding: [try Self.entry("c.home.test")], removing: [])
            try await first.record(adding: [try Self.entry("d.home.test")],
                                   removing: [Endpoint.Key(name: try DNSName("a.home.test"), type: .a)])
            let names = Set(try await Self.ledger(url).entries().map(\.key.name.text))
            #expect(names == ["b.home.test", "c.home.test", "d.home.test"])
            let refusals = await simulator.requests().filter { $0.path.contains("/configmaps") && $0.status == 409 }
            #expect(refusals.map(\.method) == ["POST", "PUT"], "\(refusals)")
        }
    }

    @Test("a hand-broken line is an error naming the ConfigMap and the line")
    func unreadableLine() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let ledger = Self.ledger(url)
            _ = try await simulator.create(.configMaps, json: """
                {"metadata":{"name":"\(ledger.name)","namespace":"network"},"data":{"records":"ok.home.test A\\nbroken\\n"}}
                """)
            let error = await #expect(throws: ConfigMapLedgerError.self) { _ = try await ledger.entries() }
            #expect(error?.description.contains("network/\(ledger.name)") == true && error?.description.contains("line 2") == true,
                    "\(String(describing: error))")
        }
    }

    @Test("state.ledger: as written, else configmap in a pod with leader election, else file")
    func ledgerDefault() {
        let inPod = ["KUBERNETES_SERVICE_HOST": "10.96.0.1"]
        let on = LeaderElectionConfig(enabled: true)
        #expect(StateConfig().resolvedLedger(leaderElection: on, environment: inPod) == .configmap)
        #expect(StateConfig().resolvedLedger(leaderElection: LeaderElectionConfig(), environment: inPod) == .file)
        #expect(StateConfig().resolvedLedger(leaderElection: on, environment: [:]) == .file)
        #expect(StateConfig(ledger: .file).resolvedLedger(leaderElection: on, environment: inPod) == .file)
        #expect(StateConfig(ledger: .configmap).resolvedLedger(leaderElection: on, environment: [:]) == .configmap)
    }
}
