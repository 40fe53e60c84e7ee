import Alerts
import DNSCore
import Foundation
import Glibc
import Lab
import NetAgent
import NetIO
import State
import Synchronization
import TestSupport
import Testing

/// One scenario's world: the Kubernetes API, Pi-hole(s) with their dnsmasq and Cloudflare
/// simulators, each under a `LabServer` so it can be taken down and brought back on its port;
/// the alert relay; records that netagent does not own, put there first; and `netagent run`
/// as the built binary, with a configuration that names them all.
final class FaultLab: Sendable {
    struct Setup: Sendable {
        var piholes = 1
        var cloudflare = true
        /// Routes in the cluster at start: name → hostnames (all in `apps`, on envoy-internal).
        /// Five, so that deleting one or two stays under the delete guard's 50 %.
        var routes: [String: [String]] = [
            "grafana": ["grafana.home.test"], "wiki": ["wiki.home.test"], "photos": ["photos.home.test"],
            "media": ["media.home.test", "tv.home.test"], "home": ["hass.home.test"],
        ]
        var resync = "1h"
        /// YAML for `probes:` (indented two spaces under it), or nil for none.
        var probes: String?
    }

    static let zone = "home.test"
    static let owner = "lab"
    static let token = "lab-token"
    static let gatewayAddress = "198.18.0.50"
    static let environment = ProcessInfo.processInfo.environment.merging([
        "NETAGENT_TEST_PIHOLE_PASSWORD": "pihole-lab-password", "NETAGENT_TEST_CLOUDFLARE_TOKEN": token,
    ]) { $1 }

    /// Lines the Pi-holes hold before netagent comes: made by hand, never to be touched.
    static let foreignHosts = ["198.18.0.99 manual.home.test", "198.18.0.98 printer.home.test"]
    static let foreignCNAMEs = ["alias.home.test,manual.home.test"]

    let setup: Setup
    let folder: URL
    let kube: KubeAPISimulator
    let kubeServer: LabServer
    let piholes: [PiholeSimulator]
    let piholeServers: [LabServer]
    let cloudflare: CloudflareSimulator?
    let cloudflareServer: LabServer?
    let relay: FaultRelay
    let httpPort: Int
    private let agentProcess = LockedChild()
    private let routeState: Mutex<[String: [String]]>
    private let probeYAML: Mutex<String?>
    private let pastOutput = Mutex("")
    /// Cloudflare's records that netagent does not own, as they were at start.
    private let foreignCloudflare: Mutex<[SimulatedDNSRecord]>

    private init(setup: Setup, relay: FaultRelay) async throws {
        self.setup = setup
        self.relay = relay
        folder = try Repository.temporaryFolder("fault")
        httpPort = try freeLoopbackPort()
        routeState = Mutex(setup.routes)
        probeYAML = Mutex(setup.probes)
        let kube = KubeAPISimulator()
        for namespace in ["network", "apps"] {
            _ = try await kube.create(.namespaces, json: #"{"metadata":{"name":"\#(namespace)"}}"#)
        }
        _ = try await kube.create(.gateways, json: GatewayFixtures.gatewayJSON)
        for (name, hosts) in setup.routes { _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON(name, hosts: hosts)) }
        self.kube = kube
        kubeServer = LabServer(name: "Kubernetes") { port, ready in try await kube.run(port: port, onListening: ready) }
        var piholes: [PiholeSimulator] = []
        for _ in 0..<setup.piholes {
            var options = PiholeSimulator.Options()
            options.hosts = Self.foreignHosts
            options.cnames = Self.foreignCNAMEs
            piholes.append(try PiholeSimulator(options))
        }
        self.piholes = piholes
        piholeServers = piholes.map { pihole in
            LabServer(name: "Pi-hole") { port, ready in try await pihole.run(port: port, onListening: ready) }
        }
        if setup.cloudflare {
            var options = CloudflareSimulator.Options(zones: [SimulatedZone(name: Self.zone)])
            options.tokens = [.init(Self.token)]
            let cloudflare = CloudflareSimulator(options)
            let zoneID = options.zones[0].id
            let foreign = [
                SimulatedDNSRecord(name: "manual.home.test", type: "A", content: "198.18.0.99", ttl: 300, comment: "made by hand"),
                SimulatedDNSRecord(name: "home.test", type: "TXT", content: "\"v=spf1 -all\""),
                // Another external-dns's record, with its ownership TXT: not ours to change.
                SimulatedDNSRecord(name: "other.home.test", type: "A", content: "198.18.0.97"),
                SimulatedDNSRecord(name: "a-other.home.test", type: "TXT",
                                   content: "\"heritage=external-dns,external-dns/owner=someone-else,external-dns/resource=httproute/x/other\""),
            ]
            for record in foreign { await cloudflare.insert(record, zoneID: zoneID) }
            foreignCloudflare = Mutex(await cloudflare.records(zoneID: zoneID))
            self.cloudflare = cloudflare
            cloudflareServer = LabServer(name: "Cloudflare") { port, ready in try await cloudflare.run(port: port, onListening: ready) }
        } else {
            foreignCloudflare = Mutex([])
            cloudflare = nil
            cloudflareServer = nil
        }
    }

    /// Runs `body` with a started lab (every simulator serving, the relay up, the agent not
    /// yet started); afterwards stops the agent (SIGKILL), the simulators and the relay.
    static func with<T>(_ setup: Setup = Setup(), _ body: (FaultLab) async throws -> T) async throws -> T {
        let lab = try await FaultLab(setup: setup, relay: try await FaultRelay())
        do {
            try await lab.startServers()
            let result = try await body(lab)
            await lab.shutdown()
            return result
        } catch {
            await lab.shutdown()
            throw error
        }
    }

    private func startServers() async throws {
        try await kubeServer.start()
        for server in piholeServers { try await server.start() }
        try await cloudflareServer?.start()
    }

    private func shutdown() async {
        agentProcess.set(nil)
        relay.stop()
        for server in piholeServers { await server.stop() }
        await cloudflareServer?.stop()
        await kubeServer.stop()
    }

    var zoneID: String { cloudflare?.options.zones[0].id ?? "" }
    var piholeURLs: [String] { piholeServers.map { "http://127.0.0.1:\($0.port)" } }

    // MARK: the agent

    /// The configuration file; written anew by `startAgent`.
    var configPath: String { folder.appendingPathComponent("netagent.yaml").path }
    var statePath: String { folder.appendingPathComponent("state.sqlite").path }

    func writeConfig() throws {
        let kubeconfig = try Kubeconfig.write(in: folder, server: "http://127.0.0.1:\(kubeServer.port)")
        var providers = ""
        if !piholes.isEmpty {
            providers += """
                  - name: pihole
                    type: pihole
                    urls: [\(piholeURLs.joined(separator: ", "))]
                    passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                    select: { domainFilters: [home.test] }
                    policy: sync

                """
        }
        if let cloudflareServer {
            providers += """
                  - name: cloudflare
                    type: cloudflare
                    apiURL: http://127.0.0.1:\(cloudflareServer.port)/client/v4
                    apiTokenEnv: NETAGENT_TEST_CLOUDFLARE_TOKEN
                    zones: [\(Self.zone)]
                    owner: \(Self.owner)
                    select: { domainFilters: [home.test] }
                    policy: sync

                """
        }
        try """
            \(AgentYAML.loopbackCluster(kubeconfig: kubeconfig))
            providers:
            \(providers)
            reconcile: { debounce: 100ms, resync: \(setup.resync) }
            \(probeYAML.withLock { $0 }.map { "probes:\n" + $0 } ?? "")
            alerting:
              smtp: { url: "\(relay.url)", from: netagent@lab.test, to: [owner@lab.test], starttls: none }
              for: 0s
              groupWait: 0s
              groupInterval: 0s
              retryDelay: 1s
            state:
              path: \(statePath)
            server:
              listen: 127.0.0.1:\(httpPort)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Sets `probes:` for the next `startAgent` (YAML indented two spaces), for probes of ports known only once serving.
    func setProbes(_ yaml: String) { probeYAML.withLock { $0 = yaml } }

    /// Starts `netagent run` (the built binary) with the lab's configuration.
    func startAgent() throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        try writeConfig()
        agentProcess.set(try ChildProcess(binary.path, ["run", "--config", configPath, "--log-level", "debug"],
                                          environment: Self.environment))
    }

    /// Everything the running (or last) agent printed.
    var agentOutput: String { agentProcess.current.map { $0.output + $0.spawned.errorOutput } ?? "" }
    /// Output of every agent this lab ran.
    var allAgentOutput: String { pastOutput.withLock { $0 } + agentOutput }

    /// Throws with its output when the agent started last has exited on its own.
    func checkAgentAlive() throws {
        if let agent = agentProcess.current, let status = agent.spawned.exitStatusIfEnded() {
            throw TestSupportError("netagent run exited (\(status)): \(agent.output.suffix(4000))")
        }
    }

    /// SIGKILL: the agent dies where it stands.
    func killAgent() {
        guard let agent = agentProcess.current else { return }
        agent.spawned.kill(SIGKILL)
        let output = agent.output
        pastOutput.withLock { $0 += output }
        agentProcess.set(nil)
    }

    /// SIGTERM and wait for the exit (it flushes alerts and logs out); returns its status.
    @discardableResult
    func stopAgent() async throws -> Int32 {
        guard let agent = agentProcess.current else { return 0 }
        agent.spawned.kill(SIGTERM)
        var status: Int32?
        try await eventually("the agent exits after SIGTERM", timeout: .seconds(30)) {
            status = agent.spawned.exitStatusIfEnded()
            return status != nil
        }
        let output = agent.output
        pastOutput.withLock { $0 += output }
        agentProcess.set(nil)
        return status ?? -1
    }

    // MARK: the cluster

    func addRoute(_ name: String, hosts: [String]) async throws {
        _ = try await kube.apply(.httpRoutes, json: GatewayFixtures.routeJSON(name, hosts: hosts))
        routeState.withLock { $0[name] = hosts }
    }

    func deleteRoute(_ name: String) async throws {
        try await kube.delete(.httpRoutes, namespace: "apps", name: name)
        routeState.withLock { $0[name] = nil }
    }

    /// The route that asks for `host`.
    func routeName(serving host: String) -> String? {
        routeState.withLock { routes in routes.first { $0.value.contains(host) }?.key }
    }

    /// The hostnames the cluster's routes ask for now.
    var desiredHosts: Set<String> { Set(routeState.withLock { $0.values.flatMap { $0 } }) }

    // MARK: assertions

    /// How each provider differs from the desired state and from the foreign records it held
    /// at start; empty when every provider equals the desired state and nothing foreign changed.
    func differences() async -> [String] {
        var problems: [String] = []
        let desired = desiredHosts
        let wantedHosts = (Self.foreignHosts + desired.map { "\(Self.gatewayAddress) \($0)" }).sorted()
        for (index, pihole) in piholes.enumerated() {
            let hosts = await pihole.hosts().sorted()
            if hosts != wantedHosts { problems.append("pihole \(index): hosts \(hosts), want \(wantedHosts)") }
            let cnames = await pihole.cnames().sorted()
            if cnames != Self.foreignCNAMEs.sorted() { problems.append("pihole \(index): cnames \(cnames), want \(Self.foreignCNAMEs)") }
        }
        if let cloudflare {
            let records = await cloudflare.records(zoneID: zoneID)
            let foreign = foreignCloudflare.withLock { $0 }
            for record in foreign where !records.contains(record) {
                problems.append("cloudflare: foreign record \(record.name) \(record.type) \(record.content) changed or gone")
            }
            let ours = records.filter { record in !foreign.contains { $0.id == record.id } }
            let addresses = ours.filter { $0.type == "A" }
            if addresses.map(\.name).sorted() != desired.sorted() || addresses.contains(where: { $0.content != Self.gatewayAddress }) {
                problems.append("cloudflare: A records \(addresses.map { "\($0.name) \($0.content)" }.sorted()), want \(desired.sorted())")
            }
            let txt = ours.filter { $0.type == "TXT" }
            for host in desired where !txt.contains(where: { $0.name.hasSuffix(host) && $0.content.contains("external-dns/owner=\(Self.owner)") }) {
                problems.append("cloudflare: no ownership TXT for \(host)")
            }
            for record in txt where !desired.contains(where: { record.name.hasSuffix($0) }) {
                problems.append("cloudflare: stray TXT \(record.name) \(record.content)")
            }
            for record in ours where record.type != "A" && record.type != "TXT" {
                problems.append("cloudflare: stray \(record.type) \(record.name)")
            }
        }
        return problems
    }

    /// Waits until every provider equals the desired state.
    func waitUntilConverged(_ what: String, timeout: Duration = .seconds(90)) async throws {
        do {
            try await eventually(what, timeout: timeout) {
                try checkAgentAlive()
                return await differences().isEmpty
            }
        } catch {
            throw TestSupportError("\(what): not converged: \(await differences())\n--- agent log (tail) ---\n\(allAgentOutput.suffix(4000))")
        }
    }

    /// Waits for a mail that lists an alert whose key contains `key` in `state`.
    func waitForMail(_ state: String, key: String, timeout: Duration = .seconds(60)) async throws {
        do {
            try await eventually("\(state) mail for \(key)", timeout: timeout) {
                try checkAgentAlive()
                return try relay.mails().contains { mail in mail.entries.contains { $0.state == state && $0.key.contains(key) } }
            }
        } catch {
            let subjects = (try? relay.mails().map { "\($0.subject) [\($0.group)] \($0.entries.map(\.key)) \($0.text.prefix(300))" }) ?? []
            throw TestSupportError("no \(state) mail for \(key); mails: \(subjects)\n--- agent log (tail) ---\n\(allAgentOutput.suffix(4000))")
        }
    }

    /// What the relay took, checked against the state file's outbox after the agent stopped:
    /// no Message-ID twice, every delivered mail taken exactly once and every taken mail in the
    /// outbox, nothing left pending, and every alert key's last word is RESOLVED.
    func mailLedger() async throws -> MailLedger {
        let mails = try relay.mails()
        let outbox = try await AlertOutbox(store: try StateStore(path: statePath)).entries()
        return MailLedger(mails: mails, outbox: outbox)
    }
}

/// The alert mails of a scenario, by alert key.
struct MailLedger {
    var mails: [RelayedMail]
    var outbox: [OutboxEntry]

    /// Message-IDs the relay took more than once.
    var sentTwice: [String] {
        Dictionary(grouping: mails, by: \.messageID).filter { $0.value.count > 1 }.map(\.key).sorted()
    }

    /// Delivered in the outbox but never taken by the relay (lost), or taken but not in the outbox.
    var lost: [String] {
        let taken = Set(mails.map { $0.messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) })
        let delivered = Set(outbox.filter { $0.status == .delivered }.map(\.messageID))
        let pending = outbox.filter { $0.status == .pending }.map { "pending: \($0.subject)" }
        return delivered.subtracting(taken).map { "delivered, not taken: \($0)" }.sorted()
            + taken.subtracting(Set(outbox.map(\.messageID))).map { "taken, not in the outbox: \($0)" }.sorted()
            + pending
    }

    /// How many mails announced each key FIRING for the first time in an episode, and RESOLVED.
    var episodes: [String: (fired: Int, resolved: Int)] {
        var result: [String: (fired: Int, resolved: Int)] = [:]
        var firing: Set<String> = []
        for mail in mails {
            for (state, key) in mail.entries {
                var counts = result[key] ?? (0, 0)
                if state == "FIRING", !firing.contains(key) {
                    counts.fired += 1
                    firing.insert(key)
                } else if state == "RESOLVED" {
                    counts.resolved += 1
                    firing.remove(key)
                }
                result[key] = counts
            }
        }
        return result
    }

    /// Keys still firing in the last mail that named them.
    var unresolved: [String] {
        episodes.filter { $0.value.fired != $0.value.resolved }.map(\.key).sorted()
    }

    /// The episodes of the keys that contain `fragment`.
    func episodes(of fragment: String) -> [(fired: Int, resolved: Int)] {
        episodes.filter { $0.key.contains(fragment) }.map(\.value)
    }

    /// Every check that holds for any scenario, as failures (empty: all hold).
    var invariantFailures: [String] {
        var failures: [String] = []
        if !sentTwice.isEmpty { failures.append("sent twice: \(sentTwice)") }
        if !lost.isEmpty { failures.append("lost: \(lost)") }
        if !unresolved.isEmpty { failures.append("never resolved: \(unresolved)") }
        for (key, counts) in episodes where counts.resolved > counts.fired {
            failures.append("\(key): resolved \(counts.resolved)× for \(counts.fired) firing")
        }
        return failures
    }

    var summary: String {
        let keys = episodes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.fired) fired/\($0.value.resolved) resolved" }
        return "\(mails.count) mail(s)" + (keys.isEmpty ? "" : "; " + keys.joined(separator: "; "))
    }
}

/// The outbox of a state file another process writes, read as it stands.
enum AlertOutboxReader {
    static func entries(_ path: String) async throws -> [OutboxEntry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try await AlertOutbox(store: try StateStore(path: path)).entries()
    }
}
