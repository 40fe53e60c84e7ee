import ArgumentParser
import Config
import DNSCore
import Foundation
import NetAgent
import NetIO
import Probes

/// The targets and settings of `netagent probe`: the configuration file's (`ProbeFactory(config:)`),
/// with the flags laid over them.
struct ProbeTargets {
    var factory: ProbeFactory
    var interval: Duration?
    var timeout: Duration?

    init(command c: ProbeCommand, file: NetAgentConfig?) throws {
        factory = file.map(ProbeFactory.init(config:)) ?? ProbeFactory()
        let schedule = file?.probes.schedule(of: c.kind)
        interval = schedule?.interval
        timeout = schedule?.timeout
        for text in c.nodes { factory.nodes.append(try Self.node(text)) }
        for text in c.offline {
            let (name, reason) = try Self.pair(text, "--offline")
            guard let index = factory.nodes.firstIndex(where: { $0.name == name }) else {
                throw ValidationError("--offline \(name): no such node")
            }
            factory.nodes[index].offline = reason
        }
        if !c.ports.isEmpty { factory.tcpPorts = c.ports }
        if !c.controlPlanePorts.isEmpty { factory.controlPlanePorts = c.controlPlanePorts }
        if c.noICMP { factory.icmp = false }
        if let mtu = c.expectedMTU { factory.expectedMTU = mtu }
        if let text = c.vip {
            guard let address = IPAddress(text) else { throw ValidationError("--vip '\(text)' is not an IP address") }
            factory.vip = address
        }
        if let port = c.vipPort { factory.vipPort = port }
        factory.vipInterface = c.interface
        for text in c.servers {
            let (name, address) = try Self.pair(text, "--server")
            do {
                factory.servers.append(DNSServerTarget(name: name, server: try DNSServer(parsing: address)))
            } catch {
                throw ValidationError("--server \(text): \(error.message)")
            }
        }
        factory.readyURL = c.readyURL ?? factory.readyURL
        factory.tunnelID = c.tunnelID ?? factory.tunnelID
        factory.minConnections = c.minConnections ?? factory.minConnections
        factory.tunnelNameServer = factory.servers.first
    }

    /// The probe for `kind`; throws a usage error when its targets are missing.
    func probe(_ kind: ProbeKind, resolver: Resolver, command c: ProbeCommand) throws -> any Probe {
        var factory = factory
        switch kind {
        case .nodes:
            guard !factory.nodes.isEmpty else { throw ValidationError("nodes: give --node or --config") }
        case .mtu:
            guard !factory.nodes.isEmpty else { throw ValidationError("mtu: give --node or --config") }
        case .vip:
            guard factory.vip != nil else { throw ValidationError("vip: give --vip or --config with cluster.vip") }
        case .dnsServer:
            guard !factory.servers.isEmpty else { throw ValidationError("dns-server: give --server or --config") }
            guard let type = DNSQueryType(rawValue: c.type.uppercased()) else { throw ValidationError("--type \(c.type) is not a query type") }
            factory.question = DNSQuestion(name: c.name, type: type)
        case .dnsRecords:
            guard let server = factory.servers.first, let path = c.records else {
                throw ValidationError("dns-records: give --server and --records FILE")
            }
            factory.records = try Self.records(path, server: server)
        case .tunnel:
            guard factory.readyURL != nil, factory.tunnelID != nil else {
                throw ValidationError("tunnel: give --ready-url and --tunnel-id, or --config")
            }
            factory.publicNames = try c.publicNames.map { text in
                do { return try DNSName(text) } catch { throw ValidationError("--public-name: \(error)") }
            }
        }
        guard let probe = factory.probe(kind, resolver: resolver) else {
            throw ValidationError("\(kind.rawValue): its targets are missing")
        }
        return probe
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

    /// The largest `--records` file read: ~100,000 records at 80 bytes a line.
    static let maxRecordsFileBytes = 8 << 20

    /// Lines `NAME TYPE TARGET[,TARGET…]`; blank lines and `#` comments skipped. Read as every
    /// file netagent is given: a regular file only, at most `maxRecordsFileBytes`.
    static func records(_ path: String, server: DNSServerTarget) throws -> [ExpectedRecord] {
        let text: String
        do {
            text = String(decoding: try BoundedFile.read(path, maxBytes: maxRecordsFileBytes).data, as: UTF8.self)
        } catch {
            throw ValidationError("--records \(path): cannot read it: \(error.description)")
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
