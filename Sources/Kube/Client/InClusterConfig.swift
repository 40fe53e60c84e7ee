public import Foundation
import NetIO

/// The connection of a pod's service account (client-go's `InClusterConfig`).
public enum InClusterConfig {
    /// Where the kubelet mounts the service account's token, CA and namespace.
    public static let defaultFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The in-cluster connection, or nil when not running in a pod (`KUBERNETES_SERVICE_HOST`
    /// or `KUBERNETES_SERVICE_PORT` unset). Throws when in a pod but the token is unreadable.
    /// The token is read from its file on every refresh, so rotation is picked up.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            folder: String = defaultFolder) throws(KubeError) -> ClusterConnection? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return nil }
        let tokenPath = folder + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeError(code: .configuration,
                            message: "in-cluster: no service-account token at \(tokenPath) (automountServiceAccountToken off?)")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let caPath = folder + "/ca.crt"
        let namespace = (try? String(contentsOfFile: folder + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return ClusterConnection(
            server: "https://\(hostPart):\(port)",
            tls: TLSOptions(caFile: FileManager.default.fileExists(atPath: caPath) ? caPath : nil),
            credentials: .tokenFile(tokenPath),
            namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
    }
}
