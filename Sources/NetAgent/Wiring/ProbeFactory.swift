public import Config
public import NetIO
public import Probes

extension NetAgentConfig {
    /// The probes `netagent run` schedules: each kind configured under `probes:` and not
    /// `enabled: false`, with its interval and deadline. `dnsRecords` needs the sources and
    /// is `scheduledRecordsProbe` (DaemonRecordsProbe.swift).
    /// `tunnelStatus` is the Cloudflare API's view of the tunnel (`tunnelStatusSource(secrets:)`).
    public func scheduledProbes(resolver: Resolver, tunnelStatus: (any TunnelStatusSource)? = nil) -> [ScheduledProbe] {
        let nodes = nodeTargets
        var scheduled: [ScheduledProbe] = []
        func add(_ schedule: ProbesConfig.Schedule, _ probe: () -> (any Probe)?) {
            guard schedule.enabled, let probe = probe() else { return }
            scheduled.append(ScheduledProbe(probe, interval: schedule.interval, timeout: schedule.timeout))
        }
        if let dns = probes.dns {
            add(dns.schedule) {
                // The configuration has already checked each address is an IP address and each port in range,
                // which is all `DNSServer` refuses; nothing is dropped here.
                let servers = dns.servers.compactMap { server in
                    (try? DNSServer(address: server.address.description, port: server.port))
                        .map { DNSServerTarget(name: server.name, server: $0) }
                }
                return DNSServerProbe(servers: servers, question: DNSQuestion(name: dns.question, type: .a), resolver: resolver)
            }
        }
        if let settings = probes.nodes {
            add(settings.schedule) {
                NodesProbe(nodes: nodes, tcpPorts: settings.tcpPorts, controlPlanePorts: settings.controlPlanePorts, icmp: settings.icmp)
            }
        }
        if let settings = probes.mtu {
            add(settings.schedule) { MTUProbe(nodes: nodes, expected: settings.expected) }
        }
        if let settings = probes.vip {
            add(settings.schedule) { cluster.vip.map { VIPProbe(vip: $0, port: settings.port, nodes: nodes) } }
        }
        if let tunnel = probes.tunnel {
            add(tunnel.schedule) {
                TunnelProbe(readyURL: tunnel.readyURL.absoluteString, tunnelID: tunnel.tunnelID.uuidString.lowercased(),
                            minConnections: tunnel.minConnections, statusSource: tunnelStatus, resolver: resolver)
            }
        }
        return scheduled
    }
}

extension NetAgentConfig {
    /// `cluster.nodes` as the probes see them, offline ones included.
    public var nodeTargets: [NodeTarget] {
        cluster.nodes.map {
            NodeTarget(name: $0.name, address: $0.address, role: $0.role == .controlplane ? .controlplane : .worker,
                       offline: $0.offline)
        }
    }
}
