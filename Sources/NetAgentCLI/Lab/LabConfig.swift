/// The agent's configuration for a lab: the lab's cluster, the simulated cluster as the source,
/// the Cloudflare and Pi-hole simulators as targets (selected as the seed's two external-dns
/// instances are), every probe the nodes can answer, and alert mail to the SMTP sink with short
/// timings so a fault mails within a minute. Paths are relative to the lab folder.
enum LabConfig {
    /// The first line of every lab configuration: how a lab recognises a folder it may empty.
    static let marker = "# Written by `netagent lab`"

    static func yaml(topology: LabTopology, fixture: LabFixture, zones: [String], ports: [String: Int],
                     piholeDNSPort: Int, smtpPort: Int, agentPort: Int, icmp: Bool, vip: Bool) -> String {
        let nodes = topology.nodes.map { node in
            "    - { name: \(node.name), address: \(node.address), role: \(node.controlPlane ? "controlplane" : "worker")"
                + (node.offline.map { ", offline: \"\($0)\"" } ?? "") + " }"
        }.joined(separator: "\n")
        func select(_ word: String) -> String {
            fixture.gatewayName(containing: word).map { "\n    select: { gatewayName: \($0) }" } ?? ""
        }
        return """
            \(marker): the lab's cluster, its simulators and its SMTP sink. Not for a real cluster.
            cluster:
              name: lab
              network: \(topology.network)
              vip: \(topology.vip)
              mtu: 1500
              nodes:
            \(nodes)

            sources:
              kubernetes: { kubeconfig: kubeconfig }

            providers:
              - name: cloudflare
                type: cloudflare
                apiURL: http://127.0.0.1:\(ports["cloudflare"] ?? 0)/client/v4
                apiTokenFile: cloudflare-token
                accountID: "0123456789abcdef0123456789abcdef"
                zones: [\(zones.joined(separator: ", "))]
                owner: lab\(select("external"))
              - name: pihole
                type: pihole
                url: http://127.0.0.1:\(ports["pihole"] ?? 0)
                passwordFile: pihole-password\(select("internal"))

            reconcile: { debounce: 200ms, resync: 10s }

            probes:
              interval: 5s
              timeout: 2s
              dns:
                servers: [{ name: pihole, address: 127.0.0.1, port: \(piholeDNSPort) }]
                question: pi.hole
              nodes: { tcpPorts: [50000, 10250], controlPlanePorts: [6443], icmp: \(icmp) }
              mtu: { expected: 1500, timeout: 4s }
            \(vip ? "  vip: { port: 6443, interval: 2s }\n" : "")\
              tunnel: { readyURL: "http://127.0.0.1:\(ports["cloudflared"] ?? 0)/ready", tunnelID: "\(LabSession.tunnelID)", minConnections: 2 }

            alerting:
              smtp: { url: "smtp://127.0.0.1:\(smtpPort)", from: netagent@lab.test, to: [owner@lab.test], starttls: none }
              for: 10s
              repeatInterval: 1h

            state:
              path: state.sqlite

            server:
              listen: 127.0.0.1:\(agentPort)

            """
    }
}
