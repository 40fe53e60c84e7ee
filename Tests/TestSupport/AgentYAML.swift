import Foundation

/// Pieces of agent configurations for tests against the Lab. Each goes at the start of a line
/// of a configuration; the keys that follow (`providers:` …) go at the same indentation.
public enum AgentYAML {
    /// A one-node cluster on loopback.
    public static let loopbackCluster = """
        cluster:
          name: lab
          network: 127.0.0.0/8
          nodes:
            - { name: n1, address: 127.0.0.1 }
        """

    /// `loopbackCluster` with the simulated Kubernetes API (through `kubeconfig`) as the source.
    public static func loopbackCluster(kubeconfig: URL) -> String {
        """
        \(loopbackCluster)
        sources:
          kubernetes: { kubeconfig: \(kubeconfig.path) }
        """
    }

    /// `sources:` reading a manifests file written into `folder`: the lab's Gateway and one
    /// route (in `docs`) per host name of `hosts`, named after the host's first label.
    public static func manifestSource(hosts: [String], in folder: URL) throws -> String {
        let file = folder.appendingPathComponent("routes.yaml")
        let routes = hosts.map { GatewayFixtures.routeYAML($0.components(separatedBy: ".")[0], namespace: "docs", hosts: [$0]) }
        try ([GatewayFixtures.gatewayYAML] + routes).joined(separator: "\n---\n").write(to: file, atomically: true, encoding: .utf8)
        return "sources:\n  manifests: [\(file.path)]"
    }

    /// `alerting:` through the relay at `smtp` (a flow mapping's inside: url, from, to, …), every
    /// delay at zero and a retry each second, so mail follows a fault at once.
    public static func promptAlerting(smtp: String) -> String {
        """
        alerting:
          smtp: { \(smtp) }
          for: 0s
          groupWait: 0s
          groupInterval: 0s
          retryDelay: 1s
        """
    }
}
