extension NetAgentConfig {
    /// A few lines for people, printed by `netagent config validate`: the cluster, its
    /// offline nodes, the providers with type and policy, and the probe kinds that run.
    public var summary: String {
        let offline = cluster.offlineNodes.map { "\($0.name) (\($0.offline ?? ""))" }
        var lines = [
            "cluster \(cluster.name): \(cluster.nodes.count) nodes, \(offline.count) offline"
                + (offline.isEmpty ? "" : ": " + offline.joined(separator: ", ")),
        ]
        let providerText = providers.map { "\($0.name) (\($0.kind.typeName), \($0.policy.rawValue))" }
        lines.append("providers: " + (providerText.isEmpty ? "none" : providerText.joined(separator: ", ")))
        let kinds = probes.enabledKinds
        lines.append("probes: " + (kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))
        if let alerting {
            lines.append("alerts: mail to \(alerting.smtp.to.joined(separator: ", "))")
        } else {
            lines.append("alerts: none")
        }
        return lines.joined(separator: "\n")
    }
}
