import DNSCore
import Foundation
import Glibc
import Lab
import NetIO
import Testing
import TestSupport

/// `netagent run` against the Lab: the Kubernetes API simulator as the source, the Pi-hole
/// simulator (with its real dnsmasq) as the target, a dns-server probe against that dnsmasq.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct DaemonTests {
    static let environment = ProcessInfo.processInfo.environment.merging(
        ["NETAGENT_TEST_PIHOLE_PASSWORD": "pihole-lab-password"]) { $1 }

    /// A configuration with the simulated cluster as the source and `piholeURL` as the target.
    static func write(folder: URL, kubeURL: String, piholeURL: String, dns: String, httpPort: Int,
                      question: String = "envoy-internal.home.test", records: Bool = false) throws -> String {
        let kubeconfig = try Kubeconfig.write(in: folder, server: kubeURL)
        let parts = dns.split(separator: ":")
        let config = """
            \(AgentYAML.loopbackCluster(kubeconfig: kubeconfig))
            providers:
              - name: pihole
                type: pihole
                urls: [\(piholeURL)]
                passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                select: { domainFilters: [home.test] }
                policy: sync
            reconcile: { debounce: 100ms, resync: 1h }
            probes:
              dns:
                servers: [{ name: pihole, address: \(parts[0]), port: \(parts[1]) }]
                question: \(question)
              \(records ? "dnsRecords: {}" : "")
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(httpPort)
            """
        let file = folder.appendingPathComponent("netagent.yaml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient().send(HTTPRequest(url: url, timeout: .seconds(5)))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// The lab most tests use: the seeded cluster with a `grafana` route, and a Pi-hole that
    /// knows the gateway's own name (dnsmasq serves a CNAME only to a name it knows).
    static func clusterAndPihole() async throws -> (KubeAPISimulator, PiholeSimulator) {
        let kube = try await seeded()
        _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("grafana", hosts: ["grafana.home.test"]))
        var options = PiholeSimulator.Options()
        options.hosts = ["198.18.0.50 envoy-internal.home.test"]
        return (kube, try PiholeSimulator(options))
    }

    static func seeded() async throws -> KubeAPISimulator {
        let kube = KubeAPISimulator()
        for namespace in ["network", "apps"] {
            _ = try await kube.create(.namespaces, json: #"{"metadata":{"name":"\#(namespace)"}}"#)
        }
        _ = try await kube.create(.gateways, json: GatewayFixtures.gatewayJSON)
        return kube
    }

    @Test("a route added in the cluster appears in Pi-hole and resolves; deleted, it goes; SIGTERM exits 0 and logs out")
    func followsTheClusterIntoPihole() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("daemon")
        let (kube, pihole) = try await Self.clusterAndPihole()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let port = try freeLoopbackPort()
                let config = try Self.write(folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress, httpPort: port)
                let agent = try ChildProcess(binary.path, ["run", "--config", config, "--log-level", "debug"], environment: Self.environment)
                try await waitForTCP(port: port)
                #expect(try await Self.get("http://127.0.0.1:\(port)/healthz").status == 200)

                // The route there at start is reconciled and the agent becomes ready.
                try await eventually("grafana in Pi-hole") { await pihole.hosts().contains("198.18.0.50 grafana.home.test") }
                try await eventually("ready") { try await Self.get("http://127.0.0.1:\(port)/readyz").status == 200 }

                // A route added while it runs: the record appears and dnsmasq answers it.
                _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("wiki", hosts: ["wiki.home.test"]))
                try await eventually("wiki in Pi-hole") { await pihole.hosts().contains("198.18.0.50 wiki.home.test") }
                let resolver = Resolver(options: .init(timeout: .seconds(1)))
                defer { resolver.shutdown() }
                let server = try DNSServer(parsing: pihole.dnsAddress)
                // dnsmasq reads the simulator's hostsdir through inotify, a moment after the API call.
                try await eventually("wiki answered by dnsmasq") {
                    try await resolver.query("wiki.home.test", type: .a, server: server).records.map(\.data) == [.a("198.18.0.50")]
                }

                // A route deleted: its record goes, the other stays, the hand-made one is untouched.
                try await kube.delete(.httpRoutes, namespace: "apps", name: "grafana")
                try await eventually("grafana gone") { await !pihole.hosts().contains("198.18.0.50 grafana.home.test") }
                let hosts = await pihole.hosts()
                #expect(hosts.contains("198.18.0.50 wiki.home.test"))
                #expect(hosts.contains("198.18.0.50 envoy-internal.home.test"))
                try await eventually("grafana no longer answered") {
                    try await resolver.query("grafana.home.test", type: .a, server: server).records.isEmpty
                }

                // /metrics: the reconciles per target and the probe results, in Prometheus' text format.
                // The counters move when the apply returns, just after the simulator saw the change.
                let deleteCounted = #"netagent_plan_changes_total{provider="pihole \#(piholeURL)",action="delete"} 1"#
                try await eventually("the delete counted") {
                    try await Self.get("http://127.0.0.1:\(port)/metrics").body.contains(deleteCounted)
                }
                let metrics = try await Self.get("http://127.0.0.1:\(port)/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains(#"netagent_reconcile_total{provider="pihole \#(piholeURL)",outcome="success"}"#), "\(metrics.body)")
                #expect(metrics.body.contains(#"probe_success{kind="dns-server",target="pihole (\#(pihole.dnsAddress))"} 1"#), "\(metrics.body)")
                #expect(metrics.body.contains(#"netagent_plan_changes_total{provider="pihole \#(piholeURL)",action="delete"} 1"#), "\(metrics.body)")

                // SIGTERM: a clean exit, and the Pi-hole seat is given back.
                agent.spawned.kill(SIGTERM)
                var status: Int32?
                try await eventually("exit after SIGTERM", timeout: .seconds(10)) {
                    status = agent.spawned.exitStatusIfEnded()
                    return status != nil
                }
                #expect(status == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                #expect(await pihole.activeSessions() == 0, "\(agent.output)\(agent.spawned.errorOutput)")
            }
        }
    }

    @Test("--once: exit 0 when the target converges and the probes pass, 1 when the DNS probe fails")
    func onceExitCodes() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("daemon-once")
        let (kube, pihole) = try await Self.clusterAndPihole()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let port = try freeLoopbackPort()
                let good = try Self.write(folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress, httpPort: port)
                let run = try await Netagent.run(binary, ["run", "--config", good, "--once"], environment: Self.environment)
                #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
                #expect(await pihole.hosts().contains("198.18.0.50 grafana.home.test"))
                #expect(await pihole.activeSessions() == 0)

                // The probe asks for a name dnsmasq does not know: not all is well.
                let bad = try Self.write(folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress, httpPort: port,
                                         question: "absent.home.test")
                let failing = try await Netagent.run(binary, ["run", "--config", bad, "--once"], environment: Self.environment)
                #expect(failing.status == 1, "\(failing.stdout)\(failing.stderr)")
                #expect(failing.stdout.contains("FAIL  probe dns-server"), "\(failing.stdout)")
            }
        }
    }

    @Test("--once with probes.dnsRecords asks the Pi-hole's dnsmasq for every desired name; a dry run leaves one unanswered")
    func onceAsksEveryDesiredName() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("daemon-records")
        let (kube, pihole) = try await Self.clusterAndPihole()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let config = try Self.write(folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress,
                                            httpPort: try freeLoopbackPort(), records: true)
                let run = try await Netagent.run(binary, ["run", "--config", config, "--once"], environment: Self.environment)
                #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
                #expect(run.stdout.contains("ok    probe dns-records grafana.home.test"), "\(run.stdout)")

                // A route the dry run does not write: its name is desired but not answered.
                _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("wiki", hosts: ["wiki.home.test"]))
                let dry = try await Netagent.run(binary, ["run", "--config", config, "--once", "--dry-run"], environment: Self.environment)
                #expect(dry.status == 1, "\(dry.stdout)\(dry.stderr)")
                #expect(dry.stdout.contains("FAIL  probe dns-records wiki.home.test"), "\(dry.stdout)")
                #expect(dry.stdout.contains("ok    probe dns-records grafana.home.test"), "\(dry.stdout)")
            }
        }
    }

    /// A configuration that reads routes from a manifest file, with no probes.
    static func manifestsConfig(folder: URL, urls: [String], httpPort: Int) throws -> String {
        let routes = folder.appendingPathComponent("routes.yaml")
        try [GatewayFixtures.gatewayYAML, GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])]
            .joined(separator: "\n---\n").write(to: routes, atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            \(AgentYAML.loopbackCluster)
            sources:
              manifests: [\(routes.path)]
            providers:
              - name: pihole
                type: pihole
                urls: [\(urls.joined(separator: ", "))]
                passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                select: { domainFilters: [home.test] }
            reconcile: { debounce: 50ms, resync: 1h }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(httpPort)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("manifests only, --dry-run: the agent gets ready, writes nothing, and SIGTERM exits 0")
    func dryRunWritesNothing() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("daemon-dry")
        let pihole = try PiholeSimulator()
        try await pihole.withRunning { piholeURL in
            let port = try freeLoopbackPort()
            let config = try Self.manifestsConfig(folder: folder, urls: [piholeURL], httpPort: port)
            let agent = try ChildProcess(binary.path, ["run", "--config", config, "--dry-run"], environment: Self.environment)
            try await waitForTCP(port: port)
            try await eventually("ready") { try await Self.get("http://127.0.0.1:\(port)/readyz").status == 200 }
            #expect(await pihole.hosts().isEmpty)
            #expect(await pihole.counters().calls > 0)
            agent.spawned.kill(SIGTERM)
            var status: Int32?
            try await eventually("exit after SIGTERM", timeout: .seconds(10)) {
                status = agent.spawned.exitStatusIfEnded()
                return status != nil
            }
            #expect(status == 0, "\(agent.output)\(agent.spawned.errorOutput)")
            #expect(await pihole.activeSessions() == 0)
        }
    }

    @Test("one Pi-hole down: the other converges, /readyz names the one down, --once exits 1")
    func oneTargetDownDoesNotHoldUpTheOther() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("daemon-down")
        let pihole = try PiholeSimulator()
        try await pihole.withRunning { piholeURL in
            let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
            let port = try freeLoopbackPort()
            let config = try Self.manifestsConfig(folder: folder, urls: [dead, piholeURL], httpPort: port)
            let agent = try ChildProcess(binary.path, ["run", "--config", config], environment: Self.environment)
            try await waitForTCP(port: port)
            try await eventually("wiki in the live Pi-hole") { await pihole.hosts().contains("198.18.0.50 wiki.home.test") }
            // The live target counts as reached once its run is recorded, just after the write lands.
            try await eventually("/readyz clears the live Pi-hole") {
                try await !Self.get("http://127.0.0.1:\(port)/readyz").body.contains(piholeURL)
            }
            let ready = try await Self.get("http://127.0.0.1:\(port)/readyz")
            #expect(ready.status == 503)
            #expect(ready.body.contains(dead) && !ready.body.contains(piholeURL), "\(ready.body)")
            agent.stop()

            let once = try await Netagent.run(binary, ["run", "--config", config, "--once"], environment: Self.environment)
            #expect(once.status == 1, "\(once.stdout)\(once.stderr)")
            #expect(once.stdout.contains("FAIL  reconcile pihole \(dead)"), "\(once.stdout)")
        }
    }
}
