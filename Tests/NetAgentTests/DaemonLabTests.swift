import DNSCore
import Foundation
import Glibc
import Lab
import NetIO
import Testing
import TestSupport

/// `netagent run` against the whole Lab: the Kubernetes API simulator as the source, the
/// Cloudflare simulator (TXT ownership) and the Pi-hole simulator (with its dnsmasq) as the
/// targets, an aiosmtpd sink for alert mail, and `/metrics` read after each run.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct DaemonLabTests {
    static let environment = ProcessInfo.processInfo.environment.merging(
        ["NETAGENT_TEST_PIHOLE_PASSWORD": "pihole-lab-password", "NETAGENT_TEST_CF_TOKEN": "lab-token"]) { $1 }
    static let zone = SimulatedZone(name: "home.test")

    /// The parts of a configuration a test varies.
    struct Setup {
        var kubeURL: String
        var piholeURL: String
        var cloudflareURL: String
        var httpPort: Int
        var resync = "1h"
        /// YAML under `probes:` and `alerting:`, indented by the caller; empty for none.
        var probes = ""
        var alerting = ""
    }

    static func write(_ setup: Setup, folder: URL) throws -> String {
        let kubeconfig = try Kubeconfig.write(in: folder, server: setup.kubeURL)
        var config = """
            \(AgentYAML.loopbackCluster(kubeconfig: kubeconfig))
            providers:
              - name: pihole
                type: pihole
                urls: [\(setup.piholeURL)]
                passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                select: { domainFilters: [home.test] }
              - name: cloudflare
                type: cloudflare
                apiURL: \(setup.cloudflareURL)
                apiTokenEnv: NETAGENT_TEST_CF_TOKEN
                zones: [home.test]
                owner: lab
                select: { domainFilters: [home.test] }
            reconcile: { debounce: 100ms, resync: \(setup.resync) }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(setup.httpPort)

            """
        if !setup.probes.isEmpty { config += "probes:\n\(setup.probes)\n" }
        if !setup.alerting.isEmpty { config += "alerting:\n\(setup.alerting)\n" }
        let file = folder.appendingPathComponent("netagent.yaml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// The seeded cluster with a `grafana` route, a Pi-hole that knows the gateway's own name,
    /// and a Cloudflare account holding the `home.test` zone.
    static func lab() async throws -> (KubeAPISimulator, PiholeSimulator, CloudflareSimulator) {
        let (kube, pihole) = try await DaemonTests.clusterAndPihole()
        return (kube, pihole, CloudflareSimulator(CloudflareSimulator.Options(zones: [zone])))
    }

    static func start(_ config: String) throws -> ChildProcess {
        guard let binary = Netagent.binary else { throw TestSupportError("the netagent binary is not built") }
        return try ChildProcess(binary.path, ["run", "--config", config, "--log-level", "debug"], environment: environment)
    }

    /// SIGTERM, then the exit status (nil when it did not end within 10 s).
    static func terminate(_ agent: ChildProcess) async throws -> Int32? {
        agent.spawned.kill(SIGTERM)
        var status: Int32?
        try await eventually("exit after SIGTERM", timeout: .seconds(10)) {
            status = agent.spawned.exitStatusIfEnded()
            return status != nil
        }
        return status
    }

    /// Cloudflare's records of the zone as `TYPE name content`, TXT contents unquoted.
    static func cloudflare(_ simulator: CloudflareSimulator) async -> [String] {
        await simulator.records(zoneID: zone.id).map { record in
            "\(record.type) \(record.name) \(record.content.replacingOccurrences(of: "\"", with: ""))"
        }
    }

    static func hasA(_ records: [String], _ name: String, _ address: String = "198.18.0.50") -> Bool {
        records.contains("A \(name) \(address)")
    }

    /// Whether the zone holds `name`'s A record and its TXT ownership record for owner `lab`.
    static func ownedInCloudflare(_ records: [String], _ name: String, _ address: String = "198.18.0.50") -> Bool {
        hasA(records, name, address) && records.contains {
            $0.hasPrefix("TXT ") && $0.contains(name) && $0.contains("heritage=external-dns,external-dns/owner=lab")
        }
    }

    /// Whether `name` → 198.18.0.50 is in Pi-hole, and owned in Cloudflare.
    static func inBoth(_ name: String, _ pihole: PiholeSimulator, _ cloudflare: CloudflareSimulator) async -> Bool {
        let hosts = await pihole.hosts()
        let records = await Self.cloudflare(cloudflare)
        return hosts.contains("198.18.0.50 \(name)") && ownedInCloudflare(records, name)
    }

    /// The samples of `/metrics` as `name{labels}` → value.
    static func metrics(port: Int) async throws -> [String: Double] {
        let response = try await DaemonTests.get("http://127.0.0.1:\(port)/metrics")
        #expect(response.status == 200)
        var samples: [String: Double] = [:]
        for line in response.body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func answer(_ name: String, from pihole: PiholeSimulator) async throws -> [DNSRecordData] {
        let resolver = Resolver(options: .init(timeout: .seconds(1)))
        defer { resolver.shutdown() }
        return try await resolver.query(name, type: .a, server: try DNSServer(parsing: pihole.dnsAddress)).records.map(\.data)
    }

    @Test("a route added goes into Cloudflare (with TXT ownership) and Pi-hole and resolves; deleted, it leaves both; /metrics counts it all")
    func routeIntoBothProviders() async throws {
        let folder = try Repository.temporaryFolder("daemon-lab")
        let (kube, pihole, cloudflare) = try await Self.lab()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                try await cloudflare.withRunning { cloudflareURL in
                    let port = try freeLoopbackPort()
                    let config = try Self.write(Setup(kubeURL: kubeURL, piholeURL: piholeURL, cloudflareURL: cloudflareURL, httpPort: port),
                                                folder: folder)
                    let agent = try Self.start(config)
                    try await waitForTCP(port: port)
                    try await eventually("grafana in both") {
                        await Self.inBoth("grafana.home.test", pihole, cloudflare)
                    }

                    _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("wiki", hosts: ["wiki.home.test"]))
                    try await eventually("wiki in both") {
                        await Self.inBoth("wiki.home.test", pihole, cloudflare)
                    }
                    // dnsmasq reloads its hosts folder on its own (inotify), a moment after the write.
                    try await eventually("dnsmasq answers wiki") { try await Self.answer("wiki.home.test", from: pihole) == [.a("198.18.0.50")] }

                    try await kube.delete(.httpRoutes, namespace: "apps", name: "wiki")
                    try await eventually("wiki gone from both") {
                        let records = await Self.cloudflare(cloudflare)
                        return await !pihole.hosts().contains("198.18.0.50 wiki.home.test")
                            && !records.contains { $0.contains("wiki.home.test") }
                    }
                    try await eventually("dnsmasq no longer answers wiki") { try await Self.answer("wiki.home.test", from: pihole).isEmpty }
                    #expect(await pihole.hosts().contains("198.18.0.50 grafana.home.test"))
                    #expect(Self.ownedInCloudflare(await Self.cloudflare(cloudflare), "grafana.home.test"))

                    // /metrics: owned records per target and type after the last cycle, and every API call by status.
                    let pi = "pihole \(piholeURL)", cf = "cloudflare zone home.test"
                    var samples: [String: Double] = [:]
                    try await eventually("the last cycles in /metrics") {
                        samples = try await Self.metrics(port: port)
                        return samples[#"netagent_records{provider="\#(pi)",type="A"}"#] == 1
                            && samples[#"netagent_records{provider="\#(cf)",type="A"}"#] == 1
                    }
                    #expect(samples[#"netagent_records{provider="\#(cf)",type="CNAME"}"#] == 0, "\(samples)")
                    #expect(samples[#"netagent_records{provider="\#(cf)",type="TXT"}"#] == 0, "ownership TXT records are not counted")
                    #expect(samples[#"netagent_build_info{version="\#(try Self.version())"}"#] == 1, "\(samples)")
                    let requests = await cloudflare.requests()
                    let cloudflareOK = samples[#"netagent_api_requests_total{provider="cloudflare",status="200"}"#] ?? 0
                    #expect(cloudflareOK > 0 && cloudflareOK <= Double(requests.count), "\(samples) vs \(requests.count) served")
                    #expect(samples[#"netagent_api_requests_total{provider="\#(pi)",status="200"}"#] ?? 0 > 0, "\(samples)")
                    #expect(samples[#"netagent_api_requests_total{provider="\#(pi)",status="201"}"#] == 2, "two PUTs: grafana's and wiki's lines")
                    #expect(samples[#"netagent_api_requests_total{provider="\#(pi)",status="204"}"#] == 1, "one DELETE: wiki's line")
                    #expect(samples[#"netagent_plan_changes_total{provider="\#(cf)",action="create"}"#] == 2, "\(samples)")

                    #expect(try await Self.terminate(agent) == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                    #expect(await pihole.activeSessions() == 0)
                }
            }
        }
    }

    static func version() throws -> String {
        guard let binary = Netagent.binary else { throw TestSupportError("the netagent binary is not built") }
        let (status, output) = try runCommand(binary.path, ["version"])
        guard status == 0, let first = output.split(separator: "\n").first else { throw TestSupportError("netagent version: \(output)") }
        return String(first.split(separator: " ").last ?? first)
    }

    @Test("a record edited by hand in Cloudflare is put back at the next resync")
    func handEditRevertedAtResync() async throws {
        let folder = try Repository.temporaryFolder("daemon-resync")
        let (kube, pihole, cloudflare) = try await Self.lab()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                try await cloudflare.withRunning { cloudflareURL in
                    let port = try freeLoopbackPort()
                    let config = try Self.write(Setup(kubeURL: kubeURL, piholeURL: piholeURL, cloudflareURL: cloudflareURL,
                                                      httpPort: port, resync: "1s"), folder: folder)
                    let agent = try Self.start(config)
                    try await eventually("grafana in Cloudflare") { Self.ownedInCloudflare(await Self.cloudflare(cloudflare), "grafana.home.test") }

                    // Someone changes the owned record's content in the dashboard; no watch event follows.
                    let records = await cloudflare.records(zoneID: Self.zone.id)
                    var edited = try #require(records.first { $0.type == "A" && $0.name == "grafana.home.test" })
                    edited.content = "198.18.0.99"
                    await cloudflare.insert(edited, zoneID: Self.zone.id)
                    #expect(Self.hasA(await Self.cloudflare(cloudflare), "grafana.home.test", "198.18.0.99"))

                    try await eventually("the resync puts the content back") {
                        Self.hasA(await Self.cloudflare(cloudflare), "grafana.home.test")
                    }
                    let after = await cloudflare.records(zoneID: Self.zone.id).filter { $0.type == "A" && $0.name == "grafana.home.test" }
                    #expect(after.count == 1 && after.first?.id == edited.id, "updated in place: \(after)")
                    #expect(try await Self.terminate(agent) == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                }
            }
        }
    }

    @Test("Cloudflare down: Pi-hole converges, /readyz names Cloudflare; Cloudflare converges once it is back")
    func oneProviderDown() async throws {
        let folder = try Repository.temporaryFolder("daemon-cf-down")
        let (kube, pihole, cloudflare) = try await Self.lab()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let cloudflarePort = try freeLoopbackPort()
                let cloudflareURL = "http://127.0.0.1:\(cloudflarePort)/client/v4"
                let port = try freeLoopbackPort()
                let config = try Self.write(Setup(kubeURL: kubeURL, piholeURL: piholeURL, cloudflareURL: cloudflareURL, httpPort: port),
                                            folder: folder)
                let agent = try Self.start(config)
                try await waitForTCP(port: port)
                try await eventually("grafana in Pi-hole") { await pihole.hosts().contains("198.18.0.50 grafana.home.test") }
                _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("wiki", hosts: ["wiki.home.test"]))
                try await eventually("wiki in Pi-hole") { await pihole.hosts().contains("198.18.0.50 wiki.home.test") }
                try await eventually("Cloudflare's failure counted") {
                    try await Self.metrics(port: port)[#"netagent_api_requests_total{provider="cloudflare",status="error"}"#] ?? 0 > 0
                }
                let ready = try await DaemonTests.get("http://127.0.0.1:\(port)/readyz")
                #expect(ready.status == 503)
                #expect(ready.body.contains("cloudflare zone home.test") && !ready.body.contains(piholeURL), "\(ready.body)")

                // Cloudflare comes back on the same port: the retries find it.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await cloudflare.run(port: cloudflarePort) { _ in } }
                    defer { group.cancelAll() }
                    try await eventually("both routes in Cloudflare", timeout: .seconds(90)) {
                        let records = await Self.cloudflare(cloudflare)
                        return Self.ownedInCloudflare(records, "grafana.home.test") && Self.ownedInCloudflare(records, "wiki.home.test")
                    }
                    try await eventually("ready") { try await DaemonTests.get("http://127.0.0.1:\(port)/readyz").status == 200 }
                    #expect(try await Self.terminate(agent) == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                }
            }
        }
    }

    @Test("SIGTERM during a slow apply: the apply finishes, the agent exits 0, the seat is given back, no record is half-updated")
    func sigtermDuringApply() async throws {
        let folder = try Repository.temporaryFolder("daemon-sigterm")
        let (kube, pihole, cloudflare) = try await Self.lab()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                try await cloudflare.withRunning { cloudflareURL in
                    let port = try freeLoopbackPort()
                    let config = try Self.write(Setup(kubeURL: kubeURL, piholeURL: piholeURL, cloudflareURL: cloudflareURL, httpPort: port),
                                                folder: folder)
                    let agent = try Self.start(config)
                    try await eventually("grafana in both") {
                        await Self.inBoth("grafana.home.test", pihole, cloudflare)
                    }

                    // The gateway moves: every record is updated, and each write now takes 2 s.
                    await pihole.faults.stall(for: .seconds(2), times: 100)
                    await cloudflare.faults.stall(for: .seconds(2), times: 100, writesOnly: true)
                    let (piholeWrites, cloudflareWrites) = (await pihole.faults.stallsStarted(), await cloudflare.faults.stallsStarted())
                    _ = try await kube.apply(.gateways, json: GatewayFixtures.gatewayJSON.replacingOccurrences(of: "198.18.0.50", with: "198.18.0.51"))
                    try await eventually("a write in flight at each provider") {
                        let (piholeNow, cloudflareNow) = (await pihole.faults.stallsStarted(), await cloudflare.faults.stallsStarted())
                        return piholeNow > piholeWrites && cloudflareNow > cloudflareWrites
                    }
                    #expect(await !pihole.hosts().contains("198.18.0.51 grafana.home.test"), "the write is still in flight")

                    #expect(try await Self.terminate(agent) == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                    #expect(await pihole.activeSessions() == 0, "\(agent.output)")
                    // The applies in flight finished: the new record, and not the old one, at both.
                    let hosts = await pihole.hosts().filter { $0.hasSuffix(" grafana.home.test") }
                    #expect(hosts == ["198.18.0.51 grafana.home.test"], "\(agent.output)")
                    let records = await Self.cloudflare(cloudflare).filter { $0.hasPrefix("A grafana.home.test ") }
                    #expect(records == ["A grafana.home.test 198.18.0.51"], "\(agent.output)")
                }
            }
        }
    }

    @Test("alert mail through the daemon: a failing DNS probe mails once; recovered, a resolved mail; /metrics shows the states")
    func alertMailThroughTheDaemon() async throws {
        let folder = try Repository.temporaryFolder("daemon-alert")
        let sink = try await SMTPSink()
        let (kube, pihole, cloudflare) = try await Self.lab()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                try await cloudflare.withRunning { cloudflareURL in
                    let port = try freeLoopbackPort()
                    let dns = pihole.dnsAddress.split(separator: ":")
                    // The probe asks for status.home.test, which no route names yet: dnsmasq has no answer.
                    var setup = Setup(kubeURL: kubeURL, piholeURL: piholeURL, cloudflareURL: cloudflareURL, httpPort: port)
                    setup.probes = """
                          interval: 1s
                          timeout: 500ms
                          dns:
                            servers: [{ name: pihole, address: \(dns[0]), port: \(dns[1]) }]
                            question: status.home.test
                        """
                    setup.alerting = """
                          smtp: { url: "\(sink.url)", from: netagent@lab.test, to: [owner@lab.test], starttls: none }
                          for: 0s
                          groupWait: 0s
                          groupInterval: 0s
                        """
                    let agent = try Self.start(try Self.write(setup, folder: folder))
                    try await eventually("the firing mail", timeout: .seconds(60)) { sink.messages().count == 1 }
                    let firing = sink.messages()[0]
                    #expect(firing.contains("FIRING") && firing.contains("DNS servers failing"), "\(firing)")
                    // The step that sent the mail records the states just after.
                    var samples: [String: Double] = [:]
                    try await eventually("the firing alert in /metrics") {
                        samples = try await Self.metrics(port: port)
                        return samples[#"netagent_alerts{state="firing"}"#] == 1
                    }
                    #expect(samples[#"probe_success{kind="dns-server",target="pihole (\#(pihole.dnsAddress))"}"#] == 0, "\(samples)")
                    try await eventually("the outbox emptied") {
                        try await Self.metrics(port: port)[#"netagent_alert_outbox_pending"#] == 0
                    }

                    // The route appears, the agent writes it into Pi-hole, the probe passes.
                    _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("status", hosts: ["status.home.test"]))
                    try await eventually("the resolved mail", timeout: .seconds(60)) { sink.messages().count == 2 }
                    let resolved = sink.messages().first { $0.contains("RESOLVED") }
                    #expect(resolved?.contains("DNS servers failing") == true, "\(sink.messages())")
                    // The step that sent the mail records the states just after.
                    try await eventually("no alert firing in /metrics") {
                        samples = try await Self.metrics(port: port)
                        return samples[#"netagent_alerts{state="firing"}"#] == 0
                    }
                    #expect(samples[#"netagent_alerts{state="pending"}"#] == 0, "\(samples)")
                    #expect(samples[#"netagent_alert_outbox_pending"#] == 0, "\(samples)")
                    #expect(try await Self.terminate(agent) == 0, "\(agent.output)\(agent.spawned.errorOutput)")
                    #expect(sink.messages().count == 2, "no mail after the resolved one: \(sink.messages())")
                }
            }
        }
    }
}
