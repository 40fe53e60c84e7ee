import Foundation

/// A kubeconfig for a test's Kubernetes API (the Lab's simulator or a test server).
public enum Kubeconfig {
    /// Writes `folder/kubeconfig` with one cluster at `server`, one user (with `token` when
    /// given) and the context's `namespace` when given; returns the file.
    @discardableResult
    public static func write(in folder: URL, server: String, token: String? = nil, namespace: String? = nil) throws -> URL {
        let file = folder.appendingPathComponent("kubeconfig")
        try """
            apiVersion: v1
            kind: Config
            clusters: [{ name: lab, cluster: { server: "\(server)" } }]
            users: [{ name: lab, user: { \(token.map { "token: \($0)" } ?? "") } }]
            contexts: [{ name: lab, context: { cluster: lab, user: lab\(namespace.map { ", namespace: \($0)" } ?? "") } }]
            current-context: lab
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}
