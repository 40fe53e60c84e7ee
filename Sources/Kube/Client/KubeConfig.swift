public import Foundation
import NetIO
import Yams

/// kubeconfig files: the `KUBECONFIG` list or `~/.kube/config`, merged as kubectl merges them
/// (the first file to name a cluster, user, context or current-context wins), turned into a
/// `ClusterConnection` for one context.
public enum KubeConfig {
    /// The files to read: `explicit` alone when given, else the `KUBECONFIG` list (`:`-separated,
    /// empty entries skipped), else `~/.kube/config`.
    public static func paths(explicit: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let explicit, !explicit.isEmpty { return [explicit] }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.kube/config"]
    }

    /// The connection for `context` (nil: the merged `current-context`).
    /// Files in a `KUBECONFIG` list that do not exist are skipped, as kubectl does; an
    /// explicit file that does not exist, a missing context, cluster or user, an exec or
    /// auth-provider user (not supported) or an unreadable certificate file throws.
    public static func load(paths: [String], context: String? = nil) throws(KubeError) -> ClusterConnection {
        var merged = Merged()
        var readAny = false
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                if paths.count == 1 { throw configError("kubeconfig \(path) does not exist") }
                continue
            }
            let file: KubeConfigFile
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                file = try YAMLDecoder().decode(KubeConfigFile.self, from: text)
            } catch {
                throw configError("kubeconfig \(path): \(error)")
            }
            merged.add(file, folder: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            readAny = true
        }
        guard readAny else { throw configError("no kubeconfig found in \(paths.joined(separator: ":"))") }
        return try merged.connection(context: context)
    }

    static func configError(_ message: String) -> KubeError { KubeError(code: .configuration, message: message) }
}

/// The merged view: each name from the first file that has it, with that file's folder for
/// relative paths.
private struct Merged {
    var currentContext: String?
    var clusters: [String: (KubeConfigFile.Cluster, String)] = [:]
    var users: [String: (KubeConfigFile.User, String)] = [:]
    var contexts: [String: KubeConfigFile.Context] = [:]

    mutating func add(_ file: KubeConfigFile, folder: String) {
        if currentContext == nil, let current = file.currentContext, !current.isEmpty { currentContext = current }
        for entry in file.clusters ?? [] where clusters[entry.name] == nil { clusters[entry.name] = (entry.cluster, folder) }
        for entry in file.users ?? [] where users[entry.name] == nil { users[entry.name] = (entry.user ?? .init(), folder) }
        for entry in file.contexts ?? [] where contexts[entry.name] == nil { contexts[entry.name] = entry.context }
    }

    func connection(context name: String?) throws(KubeError) -> ClusterConnection {
        guard let contextName = name ?? currentContext else {
            throw KubeConfig.configError("kubeconfig has no current-context and none was given")
        }
        guard let context = contexts[contextName] else {
            throw KubeConfig.configError("kubeconfig has no context \"\(contextName)\"")
        }
        guard let (cluster, clusterFolder) = clusters[context.cluster] else {
            throw KubeConfig.configError("context \"\(contextName)\": no cluster \"\(context.cluster)\"")
        }
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeConfig.configError("cluster \"\(context.cluster)\" has no server")
        }
        var tls = TLSOptions(verify: !(cluster.insecureSkipTLSVerify ?? false))
        tls.serverName = cluster.tlsServerName
        if let data = cluster.certificateAuthorityData {
            tls.caPEM = try decodeBase64(data, field: "clusters[\(context.cluster)].certificate-authority-data")
        } else if let file = cluster.certificateAuthority {
            tls.caFile = resolve(file, folder: clusterFolder)
        }
        var credentials = ClusterConnection.Credentials.none
        if let userName = context.user, !userName.isEmpty {
            guard let (user, userFolder) = users[userName] else {
                throw KubeConfig.configError("context \"\(contextName)\": no user \"\(userName)\"")
            }
            let field = "users[\(userName)]"
            if user.exec != nil || user.authProvider != nil {
                throw KubeConfig.configError("\(field): exec and auth-provider credentials are not supported; use a token or a client certificate")
            }
            if user.username != nil || user.password != nil {
                throw KubeConfig.configError("\(field): username/password (basic auth) is not supported by Kubernetes any more")
            }
            if let data = user.clientCertificateData {
                tls.clientCertificatePEM = try decodeBase64(data, field: field + ".client-certificate-data")
            } else if let file = user.clientCertificate {
                tls.clientCertificatePEM = try read(resolve(file, folder: userFolder), field: field + ".client-certificate")
            }
            if let data = user.clientKeyData {
                tls.clientKeyPEM = try decodeBase64(data, field: field + ".client-key-data")
            } else if let file = user.clientKey {
                tls.clientKeyPEM = try read(resolve(file, folder: userFolder), field: field + ".client-key")
            }
            if (tls.clientCertificatePEM == nil) != (tls.clientKeyPEM == nil) {
                throw KubeConfig.configError("\(field): a client certificate needs its key and the key its certificate")
            }
            if let token = user.token, !token.isEmpty {
                credentials = .token(token)
            } else if let file = user.tokenFile, !file.isEmpty {
                credentials = .tokenFile(resolve(file, folder: userFolder))
            }
        }
        let namespace = context.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        return ClusterConnection(server: server, tls: tls, credentials: credentials, namespace: namespace)
    }

    func resolve(_ path: String, folder: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst(1) }
        return URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }

    func decodeBase64(_ text: String, field: String) throws(KubeError) -> String {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact), let pem = String(data: data, encoding: .utf8) else {
            throw KubeConfig.configError("\(field) is not base64 of PEM text")
        }
        return pem
    }

    func read(_ path: String, field: String) throws(KubeError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw KubeConfig.configError("\(field): cannot read \(path): \(error.localizedDescription)")
        }
    }
}

/// The fields of a kubeconfig file this client reads (client-go `api/v1/types.go`).
struct KubeConfigFile: Decodable {
    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var username: String?
        var password: String?
        var exec: Present?
        var authProvider: Present?

        init() {}

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }

    struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }


    /// A field whose content is not read, only noticed (exec, auth-provider).
    struct Present: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    struct NamedCluster: Decodable { var name: String; var cluster: Cluster }
    struct NamedUser: Decodable { var name: String; var user: User? }
    struct NamedContext: Decodable { var name: String; var context: Context }

    var currentContext: String?
    var clusters: [NamedCluster]?
    var users: [NamedUser]?
    var contexts: [NamedContext]?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }
}
