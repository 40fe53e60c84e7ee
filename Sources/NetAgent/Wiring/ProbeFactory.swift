public import Config
public import DNSCore
public import NetIO
public import Probes

/// The one factory from configuration to probes, used by `run` (`scheduledProbes`), `check`
/// (the same) and `probe` (its flags laid over `init(config:)`). It holds the targets and
/// settings every kind is built from; `probe(_:resolver:tunnelStatus:)` makes one kind.
public struct ProbeFactory: Sendable {
    public var nodes: [NodeTarget] = []
    public var tcpPorts = [50000, 10250]
    public var controlPlanePorts = [6443]
    public var icmp = true
    /// `probes.nodes.echoCount`, `echoSpacing`, `maxLatency`, `maxLoss`.
    public var echoCount = NodesProbe.defaultEchoCount
    public var echoSpacing = NodesProbe.defaultEchoSpacing
    public var link = LinkThresholds()
    public var expectedMTU = 1500
    public var vip: IPAddress?
    public var vipPort = 6443
    /// The interface the VIP probe's ARP goes out of; nil lets `arping` choose.
    public var vipInterface: String?
    public var servers: [DNSServerTarget] = []
    /// What the dns-server probe asks; nil when nothing says (no `probes.dns`).
    public var question: DNSQuestion?
    /// What the dns-records probe asks (`netagent probe`'s `--records` file; `run` asks the
    /// sources' records through its own probe, DaemonRecordsProbe.swift).
    public var records: [ExpectedRecord] = []
    public var readyURL: String?
    public var tunnelID: String?
    public var minConnections = 1
    /// Names the tunnel probe resolves through `tunnelNameServer`.
    public var publicNames: [DNSName] = []
    public var tunnelNameServer: DNSServerTarget?

    /// Built-in defaults and no targets.
    public init() {}

    /// The targets and settings `config` gives.
    public init(config: NetAgentConfig) {
        nodes = config.cluster.nodes
        vip = config.cluster.vip
        expectedMTU = config.probes.mtu?.expected ?? config.cluster.mtu
        if let settings = config.probes.nodes {
            tcpPorts = settings.tcpPorts
            controlPlanePorts = settings.controlPlanePorts
            icmp = settings.icmp
            echoCount = settings.echoCount
            echoSpacing = settings.echoSpacing
            link = LinkThresholds(maxLatency: settings.maxLatency, maxLoss: settings.maxLoss)
        }
        if let settings = config.probes.vip { vipPort = settings.port }
        if let dns = config.probes.dns {
            // The configuration has already checked each address is an IP address and each port in range,
            // which is all `DNSServer` refuses; nothing is dropped here.
            servers = dns.servers.compactMap { server in
                (try? DNSServer(address: server.address.description, port: server.port))
                    .map { DNSServerTarget(name: server.name, server: $0) }
            }
            question = DNSQuestion(name: dns.question, type: .a)
        }
        if let tunnel = config.probes.tunnel {
            readyURL = tunnel.readyURL.absoluteString
            tunnelID = tunnel.tunnelID.uuidString.lowercased()
            minConnections = tunnel.minConnections
        }
    }

    /// The probe of `kind`; nil when what it needs is missing (no VIP, no question, no tunnel).
    /// `tunnelStatus` is the Cloudflare API's view of the tunnel (`tunnelStatusSource(secrets:)`).
    public func probe(_ kind: ProbeKind, resolver: Resolver, tunnelStatus: (any TunnelStatusSource)? = nil) -> (any Probe)? {
        switch kind {
        case .dnsServer:
            return question.map { DNSServerProbe(servers: servers, question: $0, resolver: resolver) }
        case .dnsRecords:
            return DNSRecordsProbe(records: records, resolver: resolver)
        case .nodes:
            return NodesProbe(nodes: nodes, tcpPorts: tcpPorts, controlPlanePorts: controlPlanePorts, icmp: icmp,
                              echoCount: echoCount, echoSpacing: echoSpacing, thresholds: link)
        case .mtu:
            return MTUProbe(nodes: nodes, expected: expectedMTU)
        case .vip:
            return vip.map { VIPProbe(vip: $0, port: vipPort, nodes: nodes, interface: vipInterface) }
        case .tunnel:
            guard let readyURL, let tunnelID else { return nil }
            return TunnelProbe(readyURL: readyURL, tunnelID: tunnelID, minConnections: minConnections, statusSource: tunnelStatus,
                               publicNames: publicNames, nameServer: tunnelNameServer, resolver: resolver)
        }
    }
}

extension NetAgentConfig {
    /// The probes `netagent run` and `netagent check` schedule: each kind configured under
    /// `probes:` and not `enabled: false`, with its interval and deadline. `dnsRecords` needs the
    /// sources and is `scheduledRecordsProbe` (DaemonRecordsProbe.swift).
    /// `tunnelStatus` is the Cloudflare API's view of the tunnel (`tunnelStatusSource(secrets:)`).
    public func scheduledProbes(resolver: Resolver, tunnelStatus: (any TunnelStatusSource)? = nil) -> [ScheduledProbe] {
        let factory = ProbeFactory(config: self)
        return [ProbeKind.dnsServer, .nodes, .mtu, .vip, .tunnel].compactMap { kind in
            guard let schedule = probes.schedule(of: kind), schedule.enabled,
                  let probe = factory.probe(kind, resolver: resolver, tunnelStatus: tunnelStatus) else { return nil }
            return ScheduledProbe(probe, interval: schedule.interval, timeout: schedule.timeout)
        }
    }
}

extension ProbesConfig {
    /// The schedule of `kind`'s section; nil when the section is absent.
    public func schedule(of kind: ProbeKind) -> Schedule? {
        switch kind {
        case .dnsServer: dns?.schedule
        case .dnsRecords: dnsRecords
        case .nodes: nodes?.schedule
        case .mtu: mtu?.schedule
        case .vip: vip?.schedule
        case .tunnel: tunnel?.schedule
        }
    }
}
