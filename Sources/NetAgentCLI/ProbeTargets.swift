import ArgumentParser
import Config
import DNSCore
import Foundation
import NetAgent
import NetIO
import Probes

/// The targets and settings of `netagent probe`: the configuration file's, with the flags added.
struct ProbeTargets {
    var nodes: [NodeTarget] = []
    var tcpPorts = [50000, 10250]
    var controlPlanePorts = [6443]
    var icmp = true
    var expectedMTU = 1500
    var vip: IPAddress?
    var vipPort = 6443
    var servers: [DNSServerTarget] = []
    var readyURL: String?
    var tunnelID: String?
    var minConnections = 1
    var interval: Duration?
    var timeout: Duration?

    init(command c: ProbeCommand, file: NetAgentConfig?) throws {
        if let file { apply(file, kind: c.kind) }
        for text in c.nodes { nodes.append(try Self.node(text)) }
        for text in c.offline {
            let (name, reason) = try Self.pair(text, "--offline")
            guard let index = nodes.firstIndex(where: { $0.name == name }) else {
                throw ValidationError("--offline \(name): no such node")
            }
            nodes[index].offline = reason
        }
        if !c.ports.isEmpty { tcpPorts = c.ports }
        if !c.controlPlanePorts.isEmpty { controlPlanePorts = c.controlPlanePorts }
        if c.noICMP { icmp = false }
        if let mtu = c.expectedMTU { expectedMTU = mtu }
        if let text = c.vip {
            guard let address = IPAddress(text) else { throw ValidationError("--vip '\(text)' is not an IP address") }
            vip = address
        }
        if let port = c.vipPort { vipPort = port }
        for text in c.servers {
            let (name, address) = try Self.pair(text, "--server")
            do {
                servers.append(DNSServerTarget(name: name, server: try DNSServer(parsing: address)))
            } catch {
                throw ValidationError("--server \(text): \(error.message)")
            }
        }
        readyURL = c.readyURL ?? readyURL
        tunnelID = c.tunnelID ?? tunnelID
        minConnections = c.minConnections ?? minConnections
    }

    private mutating func apply(_ file: NetAgentConfig, kind: ProbeKind) {
        nodes = file.cluster.nodes.map {
            NodeTarget(name: $0.name, address: $0.address, role: $0.role == .controlplane ? .controlplane : .worker,
                       offline: $0.offline)
        }
        vip = file.cluster.vip
        expectedMTU = file.probes.mtu?.expected ?? file.cluster.mtu
        if let settings = file.probes.nodes {
            tcpPorts = settings.tcpPorts
            controlPlanePorts = settings.controlPlanePorts
            icmp = settings.icmp
        }
        if let settings = file.probes.vip { vipPort = settings.port }
        servers = (file.probes.dns?.servers ?? []).compactMap { server in
            (try? DNSServer(address: server.address.description, port: server.port)).map { DNSServerTarget(name: server.name, server: $0) }
        }
        if let tunnel = file.probes.tunnel {
            readyURL = tunnel.readyURL.absoluteString
            tunnelID = tunnel.tunnelID.uuidString.lowercased()
            minConnections = tunnel.minConnections
        }
        let schedule: ProbesConfig.Schedule? = switch kind {
        case .dnsServer: file.probes.dns?.schedule
        case .dnsRecords: file.probes.dnsRecords
        case .nodes: file.probes.nodes?.schedule
        case .mtu: file.probes.mtu?.schedule
        case .vip: file.probes.vip?.schedule
        case .tunnel: file.probes.tunnel?.schedule
        }
        interval = schedule?.interval
        timeout = schedule?.timeout
    }

    /// The probe for `kind`; throws a usage error when its targets are missing.
    func probe(_ kind: ProbeKind, resolver: Resolver, command c: ProbeCommand) throws -> any Probe {
        switch kind {
        case .nodes:
            guard !nodes.isEmpty else { throw ValidationError("nodes: give --node or --config") }
            return NodesProbe(nodes: nodes, tcpPorts: tcpPorts, controlPlanePorts: controlPlanePorts, icmp: icmp)
        case .mtu:
            guard !nodes.isEmpty else { throw ValidationError("mtu: give --node or --config") }
            return MTUProbe(nodes: nodes, expected: expectedMTU)
        case .vip:
            guard let vip else { throw ValidationError("vip: give --vip or --config with cluster.vip") }
            return VIPProbe(vip: vip, port: vipPort, nodes: nodes, interface: c.interface)
        case .dnsServer:
            guard !servers.isEmpty else { throw ValidationError("dns-server: give --server or --config") }
            guard let type = DNSQueryType(rawValue: c.type.uppercased()) else { throw ValidationError("--type \(c.type) is not a query type") }
            return DNSServerProbe(servers: servers, question: DNSQuestion(name: c.name, type: type), resolver: resolver)
        case .dnsRecords:
            guard let server = servers.first, let path = c.records else {
                throw ValidationError("dns-records: give --server and --records FILE")
            }
            return DNSRecordsProbe(records: try Self.records(path, server: server), resolver: resolver)
        case .tunnel:
            guard let readyURL, let tunnelID else { throw ValidationError("tunnel: give --ready-url and --tunnel-id, or --config") }
            let names = try c.publicNames.map { text in
                do { return try DNSName(text) } catch { throw ValidationError("--public-name: \(error)") }
            }
            return TunnelProbe(readyURL: readyURL, tunnelID: tunnelID, minConnections: minConnections,
                               publicNames: names, nameServer: servers.first, resolver: resolver)
        }
    }

    /// `NAME=ADDRESS[:ROLE]`.
    static func node(_ text: String) throws -> NodeTarget {
        let (name, rest) = try pair(text, "--node")
        var parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
        var role = NodeTarget.Role.worker
        if parts.count == 2, let parsed = NodeTarget.Role(rawValue: parts[1]) {
            role = parsed
            parts.removeLast()
        }
        guard parts.count == 1, let address = IPAddress(parts[0]) else {
            throw ValidationError("--node \(text): expected NAME=ADDRESS[:controlplane|worker]")
        }
        return NodeTarget(name: name, address: address, role: role)
    }

    static func pair(_ text: String, _ flag: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("\(flag) \(text): expected NAME=VALUE")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// Lines `NAME TYPE TARGET[,TARGET…]`; blank lines and `#` comments skipped.
    static func records(_ path: String, server: DNSServerTarget) throws -> [ExpectedRecord] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("--records \(path): cannot read it")
        }
        var records: [ExpectedRecord] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.isEmpty || words[0].hasPrefix("#") { continue }
            guard words.count == 3, let type = RecordType(rawValue: words[1].uppercased()), let name = try? DNSName(String(words[0])) else {
                throw ValidationError("\(path):\(number + 1): expected NAME TYPE TARGET[,TARGET…]")
            }
            let endpoint = Endpoint(name: name, type: type, targets: words[2].split(separator: ",").map(String.init))
            records.append(ExpectedRecord(endpoint: endpoint, server: server))
        }
        return records
    }
}
