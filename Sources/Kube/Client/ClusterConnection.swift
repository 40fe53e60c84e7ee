public import NetIO

/// Where the API server is and how to prove who we are: what a kubeconfig context or the
/// in-cluster service account boils down to.
public struct ClusterConnection: Sendable, Hashable {
    /// How requests authenticate besides a client certificate (which lives in `tls`).
    public enum Credentials: Sendable, Hashable {
        case none
        /// A fixed bearer token.
        case token(String)
        /// A bearer token read from a file and read again when it rotates (projected
        /// service-account tokens, kubeconfig `tokenFile`).
        case tokenFile(String)
    }

    /// `https://host:port` (or `http://` for a local simulator), without a trailing slash.
    public var server: String
    /// CA, client certificate and key, server name, verification.
    public var tls: TLSOptions
    public var credentials: Credentials
    /// The context's or the service account's namespace; `default` when neither says.
    public var namespace: String

    public init(server: String, tls: TLSOptions = TLSOptions(), credentials: Credentials = .none,
                namespace: String = "default") {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
    }
}
