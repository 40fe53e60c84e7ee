import Config
import DNSCore
import Foundation
import Glibc
import Kube
import Lab
import NetAgent
import NetIO
import Synchronization

/// One running lab: the simulators (Kubernetes API, Cloudflare, Pi-hole with its dnsmasq) on
/// 127.0.0.1, an SMTP sink (aiosmtpd writing a file per mail), the nodes, the agent as a child
/// `netagent run`, and the control endpoint for faults. `start` brings everything up and
/// writes `lab.json`; `stop` takes it all down again, in reverse order.
final class LabSession: Sendable {
    struct Options: Sendable {
        var name = "lab"
        var dir: String
        var fixture: String?
        var octet = 60
        var loopback = false
        var agentArguments: [String] = []
        /// false: the configuration is written but no agent started; whoever runs one elsewhere
        /// (scripts/image: the image's binary in its rootfs) takes `netagent.yaml` and the agent port.
        var startsAgent = true
    }

    static let piholePassword = "pihole-lab-password"
    static let cloudflareToken = "lab-token"
    /// The seed's Cloudflare Tunnel, with two connections from cloudflared.
    static let tunnelID = "11111111-2222-3333-4444-555555555555"
    static func tunnel(up: Bool) -> CloudflareSimulator.Tunnel {
        .init(id: tunnelID, name: "home", status: up ? "healthy" : "down",
              connectors: up ? [.init(connections: [.init(colo: "fra08"), .init(colo: "ams01")])] : [])
    }

    let options: Options
    let dir: URL
    let fixture: LabFixture
    let nodes: any LabNodes
    let kube = KubeAPISimulator()
    let cloudflare: CloudflareSimulator
    let pihole: PiholeSimulator
    let zones: [SimulatedZone]
    let state = Mutex(Running())

    struct Running {
        var tasks: [String: Task<Void, Never>] = [:]
        var ports: [String: Int] = [:]
        var smtp: SpawnedProcess?
        var agent: SpawnedProcess?
        var faults: [String] = []
        /// cloudflared's ready connections, as its `/ready` reports them.
        var tunnelConnections = 2
        var desired: [String: Set<RecordKey>] = [:]
        /// What the simulated cluster holds, for the progress line's counts: the fixture plus `lab route add`.
        var objects = SourceObjects()
        var config: NetAgentConfig?
        /// Every record a provider was ever meant to hold: those no longer desired but still there are to delete.
        var everDesired: [String: Set<RecordKey>] = [:]
    }

    struct RecordKey: Hashable, Sendable {
        var name: String
        var type: String
    }

    init(_ options: Options) throws {
        self.options = options
        dir = URL(fileURLWithPath: options.dir)
        let root = getuid() == 0 && !options.loopback
        nodes = root ? try NamespaceNodes(name: options.name, octet: options.octet, dir: dir)
                     : LoopbackNodes(octet: options.octet, dir: dir)
        fixture = try LabFixture.load(folder: options.fixture,
                                      gatewayAddresses: (50..<60).map { "198.18.\(options.octet).\($0)" })
        // Cloudflare's zones: the registrable part (last two labels) of every name a route gives.
        let names = (try? fixture.objects.desired(select: SelectFilters(), annotationPrefixes: []).endpoints.map(\.name.description)) ?? []
        let zoneNames = Set(names.map { $0.split(separator: ".").suffix(2).joined(separator: ".") }).sorted()
        zones = (zoneNames.isEmpty ? ["home.test"] : zoneNames).map { SimulatedZone(name: $0) }
        var cf = CloudflareSimulator.Options(tokens: [.init(Self.cloudflareToken)], zones: zones)
        cf.tunnels = [Self.tunnel(up: true)]
        cloudflare = CloudflareSimulator(cf)
        var pi = PiholeSimulator.Options(password: Self.piholePassword)
        pi.hosts = ["127.0.0.1 pi.hole"]  // Pi-hole answers its own name; the agent's DNS probe asks for it
        pi.dnsPort = try LoopbackPort.free(udp: true)
        pi.folder = dir.appendingPathComponent("pihole")
        pihole = try PiholeSimulator(pi)
    }

    var mailFolder: URL { dir.appendingPathComponent("mail/new") }
    var configFile: URL { dir.appendingPathComponent("netagent.yaml") }
    var agentLog: URL { dir.appendingPathComponent("agent.log") }

    // MARK: start

    func start() async throws -> LabInfo {
        if let running = try? LabInfo.read(dir: dir.path), running.pid != getpid(),
           let command = FileManager.default.contents(atPath: "/proc/\(running.pid)/cmdline"),
           String(decoding: command, as: UTF8.self).contains("lab") {
            throw LabError("a lab already runs in \(dir.path) (pid \(running.pid)); stop it, or give another --name or --dir")
        }
        try Self.checkReusable(dir)
        StaleProcesses.kill(namingFolder: dir.path)
        if FileManager.default.fileExists(atPath: dir.path) { try FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        do {
            return try await bringUp()
        } catch {
            await stop()
            throw error
        }
    }

    /// The folder is emptied at start: only when it is missing, empty, or an earlier lab's.
    static func checkReusable(_ dir: URL) throws {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        guard !entries.isEmpty else { return }
        let config = (try? String(contentsOf: dir.appendingPathComponent("netagent.yaml"), encoding: .utf8)) ?? ""
        guard config.hasPrefix(LabConfig.marker) else {
            throw LabError("--dir \(dir.path) is neither empty nor an earlier lab's folder; the lab empties its folder, so give another")
        }
    }

    private func bringUp() async throws -> LabInfo {
        for namespace in fixture.manifests.namespaces { try await kube.apply(.namespaces, json: LabFixture.namespaceJSON(namespace)) }
        for gateway in fixture.manifests.gateways { try await kube.apply(.gateways, json: LabFixture.gatewayJSON(gateway)) }
        for route in fixture.manifests.routes {
            try await kube.apply(route.kind == .grpcRoute ? .grpcRoutes : .httpRoutes, json: LabFixture.routeJSON(route))
        }
        let kube = self.kube, cloudflare = self.cloudflare, pihole = self.pihole
        try await serve("kubernetes") { port, ready in try await kube.run(port: port, onListening: ready) }
        try await serve("cloudflare") { port, ready in try await cloudflare.run(port: port, onListening: ready) }
        try await serve("pihole") { port, ready in try await pihole.run(port: port, onListening: ready) }
        try await serve("cloudflared") { port, ready in
            try await LabControlServer.run(port: port, handle: { _, path, _ in self.cloudflaredReady(path) }, onListening: ready)
        }
        let smtpPort = try await startSMTP()
        try await nodes.start()

        let agentPort = try LoopbackPort.free()
        try writeFiles(agentPort: agentPort, smtpPort: smtpPort)
        let config = try NetAgentConfig.load(file: configFile.path)
        try computeDesired(config)
        if options.startsAgent { try startAgent() }
        try await serve("control") { port, ready in
            try await LabControlServer.run(port: port, handle: { method, path, body in await self.control(method, path, body) },
                                           onListening: ready)
        }
        let ports = state.withLock { $0.ports }
        let info = LabInfo(
            pid: getpid(), name: options.name, dir: dir.path, mode: nodes is NamespaceNodes ? "namespaces" : "loopback",
            control: "http://127.0.0.1:\(ports["control"] ?? 0)", kubernetes: "http://127.0.0.1:\(ports["kubernetes"] ?? 0)",
            cloudflare: "http://127.0.0.1:\(ports["cloudflare"] ?? 0)/client/v4", pihole: "http://127.0.0.1:\(ports["pihole"] ?? 0)",
            piholeDNS: pihole.dnsAddress, cloudflared: "http://127.0.0.1:\(ports["cloudflared"] ?? 0)/ready",
            smtp: "smtp://127.0.0.1:\(smtpPort)", mail: mailFolder.path, config: configFile.path, agentLog: agentLog.path, agent: "http://127.0.0.1:\(agentPort)",
            nodes: Dictionary(uniqueKeysWithValues: nodes.topology.nodes.map { ($0.name, $0.address) }), vip: nodes.topology.vip,
            unavailableFaults: nodes.unavailableFaults)
        try info.write()
        return info
    }

    /// Starts one server as a task of its own and waits until it listens (or failed).
    func serve(_ name: String, port: Int = 0,
               _ run: @escaping @Sendable (Int, @escaping @Sendable (Int) async -> Void) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream<Result<Int, LabError>>.makeStream()
        let task = Task {
            do {
                try await run(port) { continuation.yield(.success($0)) }
                continuation.yield(.failure(LabError("\(name) stopped")))
            } catch {
                continuation.yield(.failure(LabError("\(name): \(error)")))
            }
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let first = await iterator.next() else { throw LabError("\(name) did not start") }
        let bound = try first.get()
        state.withLock {
            $0.tasks[name] = task
            $0.ports[name] = bound
        }
    }

    func stopServer(_ name: String) async {
        guard let task = state.withLock({ $0.tasks.removeValue(forKey: name) }) else { return }
        task.cancel()
        await task.value
    }

    /// Debian's aiosmtpd with its Mailbox handler: every mail becomes a file in `mail/new`.
    private func startSMTP() async throws -> Int {
        var lastError = "aiosmtpd did not start"
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let process = try SpawnedProcess.start("/usr/bin/python3", [
                "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox",
                dir.appendingPathComponent("mail").path,
            ])
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let status = process.exitStatusIfEnded() {
                    lastError = "aiosmtpd exited (\(status)): \(process.output)"
                    break
                }
                if await TCPProbe.connect(to: IPAddress("127.0.0.1")!, port: port, timeout: .milliseconds(200)).outcome == .connected {
                    state.withLock { $0.smtp = process }
                    return port
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            process.kill()
            _ = process.wait()
            process.removeFiles()
        }
        throw LabError("\(lastError) (scripts/setup installs python3-aiosmtpd)")
    }

    private func startAgent() throws {
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let command = ([binary, "run", "--config", configFile.path] + options.agentArguments).map(Self.quote).joined(separator: " ")
        let agent = try SpawnedProcess.start("/bin/sh", ["-c", "exec \(command) >>\(Self.quote(agentLog.path)) 2>&1"])
        state.withLock { $0.agent = agent }
    }

    /// The agent's exit status once it has ended by itself (it is then reaped and forgotten); nil while it runs.
    func agentExitStatus() -> Int32? {
        state.withLock { s in
            guard let status = s.agent?.exitStatusIfEnded() else { return nil }
            s.agent?.removeFiles()
            s.agent = nil
            return status
        }
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// cloudflared's metrics server: `/ready` answers 200 with `readyConnections` while the tunnel
    /// has connections, 503 without.
    private func cloudflaredReady(_ path: String) -> LabControlServer.Reply {
        guard path == "/ready" else { return .init(status: 404, body: "404 page not found\n") }
        let connections = state.withLock { $0.tunnelConnections }
        let status = connections > 0 ? 200 : 503
        return .init(status: status, body: #"{"status":\#(status),"readyConnections":\#(connections),"connectorId":"6a4b0f8e-0000-4000-8000-000000000001"}"#)
    }

    // MARK: files

    private func writeFiles(agentPort: Int, smtpPort: Int) throws {
        let ports = state.withLock { $0.ports }
        try "\(Self.cloudflareToken)\n".write(to: dir.appendingPathComponent("cloudflare-token"), atomically: true, encoding: .utf8)
        try "\(Self.piholePassword)\n".write(to: dir.appendingPathComponent("pihole-password"), atomically: true, encoding: .utf8)
        try """
            apiVersion: v1
            kind: Config
            clusters: [{ name: lab, cluster: { server: "http://127.0.0.1:\(ports["kubernetes"] ?? 0)" } }]
            users: [{ name: lab, user: {} }]
            contexts: [{ name: lab, context: { cluster: lab, user: lab } }]
            current-context: lab
            """.write(to: dir.appendingPathComponent("kubeconfig"), atomically: true, encoding: .utf8)
        try LabConfig.yaml(topology: nodes.topology, fixture: fixture, zones: zones.map(\.name), ports: ports,
                           piholeDNSPort: pihole.dnsPort, smtpPort: smtpPort, agentPort: agentPort,
                           icmp: nodes.icmp, vip: nodes.probesVIP)
            .write(to: configFile, atomically: true, encoding: .utf8)
    }

    private func computeDesired(_ config: NetAgentConfig) throws {
        let objects = fixture.objects
        state.withLock {
            $0.objects = objects
            $0.config = config
        }
        try recount()
    }

    /// The records each provider should hold, from the cluster's objects as the lab knows them.
    func recount() throws {
        let (objects, config) = state.withLock { ($0.objects, $0.config) }
        guard let config else { return }
        var desired: [String: Set<RecordKey>] = [:]
        for provider in config.providers {
            let endpoints = try objects.desired(for: provider, annotationPrefixes: config.sources.annotationPrefixes).endpoints
            desired[provider.name] = Set(endpoints.filter { $0.type != .txt }.map { RecordKey(name: $0.name.description, type: $0.type.rawValue) })
        }
        state.withLock { s in
            s.desired = desired
            for (provider, keys) in desired { s.everDesired[provider, default: []].formUnion(keys) }
        }
    }

    /// What a person should know about the routes: a fixture that gives a provider nothing.
    var warnings: [String] {
        let desired = state.withLock { $0.desired }
        return desired.keys.sorted().compactMap { provider in
            guard desired[provider]?.isEmpty ?? true else { return nil }
            return "the routes give \(provider) no records; `netagent plan --manifests \(options.fixture ?? "FOLDER") --explain` says why"
        }
    }

    // MARK: progress

    struct Progress: Codable, Sendable, Equatable {
        var piholePresent = 0, piholeDesired = 0, cloudflarePresent = 0, cloudflareDesired = 0, mails = 0
        /// Records of routes that are gone, still in the provider.
        var piholeStale = 0, cloudflareStale = 0
        var faults: [String] = []
        var converged: Bool {
            piholePresent == piholeDesired && cloudflarePresent == cloudflareDesired && piholeStale == 0 && cloudflareStale == 0
        }
        var line: String {
            func stale(_ count: Int) -> String { count == 0 ? "" : " (\(count) to delete)" }
            return "\(piholePresent)/\(piholeDesired) records in Pi-hole\(stale(piholeStale)), "
                + "\(cloudflarePresent)/\(cloudflareDesired) in Cloudflare\(stale(cloudflareStale)), "
                + "\(mails) mail(s)" + (faults.isEmpty ? "" : "; faults: \(faults.joined(separator: ", "))")
        }
    }

    func progress() async -> Progress {
        let (desired, ever, faults, piholeUp, cloudflareUp) = state.withLock {
            ($0.desired, $0.everDesired, $0.faults, $0.tasks["pihole"] != nil, $0.tasks["cloudflare"] != nil)
        }
        var progress = Progress(faults: faults)
        let wantPihole = desired["pihole"] ?? []
        let wantCloudflare = desired["cloudflare"] ?? []
        progress.piholeDesired = wantPihole.count
        progress.cloudflareDesired = wantCloudflare.count
        if piholeUp {
            var present: Set<RecordKey> = []
            for line in await pihole.hosts() {
                let parts = line.split(separator: " ")
                guard parts.count >= 2 else { continue }
                let type = parts[0].contains(":") ? "AAAA" : "A"
                for name in parts.dropFirst() { present.insert(RecordKey(name: String(name), type: type)) }
            }
            for line in await pihole.cnames() {
                if let name = line.split(separator: ",").first { present.insert(RecordKey(name: String(name), type: "CNAME")) }
            }
            progress.piholePresent = wantPihole.intersection(present).count
            progress.piholeStale = (ever["pihole"] ?? []).subtracting(wantPihole).intersection(present).count
        }
        if cloudflareUp {
            var present: Set<RecordKey> = []
            for zone in zones {
                for record in await cloudflare.records(zoneID: zone.id) { present.insert(RecordKey(name: record.name, type: record.type)) }
            }
            progress.cloudflarePresent = wantCloudflare.intersection(present).count
            progress.cloudflareStale = (ever["cloudflare"] ?? []).subtracting(wantCloudflare).intersection(present).count
        }
        progress.mails = ((try? FileManager.default.contentsOfDirectory(atPath: mailFolder.path)) ?? []).count
        return progress
    }

    // MARK: stop

    /// Stops the agent (SIGTERM, SIGKILL after 10 s), the control endpoint, the nodes, the SMTP
    /// sink and the simulators (dnsmasq with Pi-hole); removes `lab.json`. Safe to call twice.
    func stop() async {
        if let agent = state.withLock({ s -> SpawnedProcess? in defer { s.agent = nil }; return s.agent }) {
            agent.kill(SIGTERM)
            let deadline = ContinuousClock.now + .seconds(10)
            while agent.exitStatusIfEnded() == nil {
                if ContinuousClock.now >= deadline {
                    agent.kill(SIGKILL)
                    _ = agent.wait()
                    break
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            agent.removeFiles()
        }
        try? FileManager.default.removeItem(at: LabInfo.file(in: dir.path))
        await stopServer("control")
        await nodes.stop()
        if let smtp = state.withLock({ s -> SpawnedProcess? in defer { s.smtp = nil }; return s.smtp }) {
            smtp.kill()
            _ = smtp.wait()
            smtp.removeFiles()
        }
        for name in ["cloudflared", "pihole", "cloudflare", "kubernetes"] { await stopServer(name) }
    }
}
