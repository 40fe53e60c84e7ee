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
}
