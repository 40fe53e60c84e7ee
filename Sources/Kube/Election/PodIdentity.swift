public import Foundation

/// Who this replica is and which namespace holds its Lease and ledger ConfigMaps.
public enum PodIdentity {
    /// The Lease `holderIdentity`: `POD_NAME` (the Downward API) when set, else
    /// `<hostname>_<pid>`. Stable for the life of the process and distinct between processes
    /// running at once on one host; a restarted container of the same pod keeps its name and
    /// so renews its own lease at once instead of waiting for it to expire. No random suffix:
    /// it would make a restarted container a stranger to its own lease.
    public static func identity(environment: [String: String] = ProcessInfo.processInfo.environment,
                                hostName: String = ProcessInfo.processInfo.hostName,
                                pid: Int32 = ProcessInfo.processInfo.processIdentifier) -> String {
        if let name = environment["POD_NAME"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty { return name }
        return "\(hostName)_\(pid)"
    }

    /// The namespace: `POD_NAMESPACE` when set, else the service account's namespace file
    /// (in a pod), else the connection's (the kubeconfig context's namespace, or `default`).
    public static func namespace(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 namespaceFile: String = InClusterConfig.defaultFolder + "/namespace",
                                 connection: ClusterConnection) -> String {
        if let namespace = environment["POD_NAMESPACE"]?.trimmingCharacters(in: .whitespaces), !namespace.isEmpty {
            return namespace
        }
        if let text = try? String(contentsOfFile: namespaceFile, encoding: .utf8) {
            let namespace = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !namespace.isEmpty { return namespace }
        }
        return connection.namespace.isEmpty ? "default" : connection.namespace
    }
}
