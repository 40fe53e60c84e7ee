public import Alerts
public import Config
public import Diagnosis
public import Probes

extension StatusPage {
    /// The page for `config`: its nodes, a column per configured node check, its DNS targets.
    public convenience init(config: NetAgentConfig, targets: [DNSTarget], status: DaemonStatus, alerts: AlertService?,
                            history: ProbeHistory = ProbeHistory()) {
        var columns: [StatusSnapshot.Column] = []
        if let nodes = config.probes.nodes, nodes.schedule.enabled {
            columns.append(.tcp)
            if nodes.icmp { columns.append(.icmp) }
        }
        if let mtu = config.probes.mtu, mtu.schedule.enabled { columns.append(.mtu) }
        var vipTarget: String?
        if let vip = config.probes.vip, vip.schedule.enabled, let address = config.cluster.vip {
            columns.append(.vip)
            vipTarget = "\(address):\(vip.port)"
        }
        self.init(cluster: config.cluster.name, nodes: config.cluster.nodes, columns: columns, vipTarget: vipTarget,
                  targets: targets.map { Target(instance: $0.instance, provider: $0.config.name, type: $0.config.kind.typeName) },
                  status: status, alerts: alerts, history: history)
    }
}
