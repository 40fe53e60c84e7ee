import ArgumentParser
import Config
import DNSCore
import Foundation
import NetAgent
import NetIO
import Probes

/// `netagent probe KIND`: runs one probe kind against targets from the command line and/or
/// the configuration, prints a table or JSON, and exits 1 when a target failed.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one probe kind (\(ProbeKind.allCases.map(\.rawValue).joined(separator: ", "))) and print the results.",
        discussion: """
            Targets come from --config (cluster nodes, VIP, MTU, DNS servers, tunnel) and from the flags, which add to it.
            Exits 0 when every target of the last round is ok or known offline, 1 when one failed,
            2 when the configuration file is invalid, 64 on bad flags.
            Examples:
              netagent probe nodes --node cp1=198.18.0.11:controlplane --node w4=198.18.0.24 --offline w4="PSU"
              netagent probe mtu --node far=198.18.1.31 --expected-mtu 1500
              netagent probe vip --vip 198.18.0.10 --node cp1=198.18.0.11:controlplane --rounds 20 --every 250ms
              netagent probe dns-server --server pihole=127.0.0.1:5353 --name example.com
              netagent probe dns-records --server pihole=127.0.0.1:5353 --records FILE   (lines: NAME TYPE TARGET[,TARGET])
            """)

    enum Output: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The probe kind: \(ProbeKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kindName: String

    /// The kind named on the command line (checked in `validate`).
    var kind: ProbeKind { ProbeKind(rawValue: kindName) ?? .nodes }

    @Option(help: "A configuration file to take targets and settings from.")
    var config: String?

    @Option(name: .customLong("node"), help: "A node: NAME=ADDRESS[:controlplane|worker] (repeatable).")
    var nodes: [String] = []

    @Option(name: .customLong("offline"), help: "Mark a node known offline: NAME=REASON (repeatable).")
    var offline: [String] = []

    @Option(name: .customLong("port"), help: "TCP port probed on every node (repeatable; default 50000 and 10250).")
    var ports: [Int] = []

    @Option(name: .customLong("cp-port"), help: "TCP port probed on control planes only (repeatable; default 6443).")
    var controlPlanePorts: [Int] = []

    @Flag(help: "Skip ICMP echo in the nodes probe.")
    var noICMP = false

    @Option(help: "The MTU the path should carry (default cluster.mtu, else 1500).")
    var expectedMTU: Int?

    @Option(help: "The control-plane VIP.")
    var vip: String?

    @Option(help: "The VIP's port (default 6443).")
    var vipPort: Int?

    @Option(help: "The interface to send ARP on (default: the route's).")
    var interface: String?

    @Option(name: .customLong("server"), help: "A DNS server: NAME=ADDRESS[:PORT] (repeatable).")
    var servers: [String] = []

    @Option(help: "The name dns-server asks every server.")
    var name: String = "example.com"

    @Option(help: "The record type dns-server asks.")
    var type: String = "A"

    @Option(help: "dns-records: a file of desired records, one per line: NAME TYPE TARGET[,TARGET…], asked of the first --server.")
    var records: String?

    @Option(help: "tunnel: cloudflared's /ready URL.")
    var readyURL: String?

    @Option(help: "tunnel: the tunnel's UUID.")
    var tunnelID: String?

    @Option(help: "tunnel: fewest ready connections that count as healthy.")
    var minConnections: Int?

    @Option(name: .customLong("public-name"), help: "tunnel: a public name that must CNAME to the tunnel (repeatable), asked of the first --server.")
    var publicNames: [String] = []

    @Option(help: "Each target's deadline, e.g. 1s (default: the kind's timeout).")
    var timeout: String?

    @Option(help: "How many rounds to run.")
    var rounds: Int = 1

    @Option(help: "Time between round starts (default: the kind's interval).")
    var every: String?

    @Option(help: "table or json.")
    var output: Output = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ProbeKind(rawValue: kindName) != nil else {
            throw ValidationError("unknown kind '\(kindName)'; one of \(ProbeKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for text in [timeout, every].compactMap({ $0 }) where CLIDuration.parse(text) == nil {
            throw ValidationError("'\(text)' is not a duration like 500ms or 2s")
        }
        if let timeout { try CLIDuration.validateTimeout(timeout) }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        _ = try ProbeTargets(command: self, file: nil)
    }

    func run() async throws {
        global.bootstrapLogging()
        var file: NetAgentConfig?
        if let config {
            do {
                file = try NetAgentConfig.load(file: config)
            } catch {
                FileHandle.standardError.write(Data(error.issues.map { $0.description + "\n" }.joined().utf8))
                throw ExitCode(2)
            }
        }
        let targets = try ProbeTargets(command: self, file: file)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let probe = try targets.probe(kind, resolver: resolver, command: self)
        let defaults = ProbeKind.table[kind]
        let deadline = timeout.flatMap(CLIDuration.parse) ?? targets.timeout ?? defaults?.timeout ?? .seconds(2)
        let spacing = every.flatMap(CLIDuration.parse) ?? targets.interval ?? defaults?.interval ?? .seconds(30)
        var last: [ProbeResult] = []
        var seen: [String] = []
        for round in 0..<rounds {
            let start = ContinuousClock.now
            last = await probe.run(timeout: deadline)
            for result in last where !result.ok {
                let fault = "\(result.target): \(result.fault?.rawValue ?? "failed")"
                if !seen.contains(fault) { seen.append(fault) }
            }
            if output == .table && rounds > 1 { print("round \(round + 1)/\(rounds)") }
            if output == .table { print(ProbeOutput.table(last)) }
            if round < rounds - 1 { try await Task.sleep(until: start + spacing, clock: .continuous) }
        }
        let events = (probe as? VIPProbe)?.timeline.events ?? []
        if output == .json {
            print(ProbeOutput.json(kind: kind, rounds: rounds, results: last, faultsSeen: seen, events: events))
        } else {
            for event in events { print(ProbeOutput.describe(event)) }
        }
        if last.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
