import Foundation
import Kube
import NetIO
import Testing
import TestSupport

@Suite("kubeconfig and in-cluster configuration")
struct KubeConfigTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
    static let certPEM = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n"
    static let keyPEM = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    enum Expected: Sendable {
        case success(ClusterConnection)
        case failure(String)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// File name → contents, written to one temporary folder (sub/ for nested files).
        var files: [String: String]
        /// The KUBECONFIG list, relative names resolved in the folder.
        var list: [String]
        var context: String?
        var expected: Expected
        var testDescription: String { name }
    }

    static let talos = """
    apiVersion: v1
    kind: Config
    current-context: admin@home
    clusters:
    - name: home
      cluster:
        server: https://10.0.60.10:6443
        certificate-authority-data: \(base64(caPEM))
    contexts:
    - name: admin@home
      context: {cluster: home, user: admin@home, namespace: network}
    users:
    - name: admin@home
      user:
        client-certificate-data: \(base64(certPEM))
        client-key-data: \(base64(keyPEM))
    """

    static let files = """
    current-context: files
    clusters:
    - name: c
      cluster: {server: "https://k8s.test:6443/", certificate-authority: certs/ca.crt, tls-server-name: api.internal}
    contexts:
    - {name: files, context: {cluster: c, user: u}}
    - {name: tokens, context: {cluster: c, user: t}}
    - {name: tokenfile, context: {cluster: c, user: tf}}
    - {name: insecure, context: {cluster: i, user: t}}
    users:
    - {name: u, user: {client-certificate: certs/client.crt, client-key: /ABS/certs/client.key}}
    - {name: t, user: {token: secret-token}}
    - {name: tf, user: {tokenFile: ../token}}
    - {name: e, user: {exec: {command: aws, args: [eks, get-token]}}}
    clusters2: ignored
    """

    static let second = """
    current-context: second-wins-not
    clusters:
    - {name: c, cluster: {server: "https://shadowed:1"}}
    - name: i
      cluster: {server: "https://insecure.test", insecure-skip-tls-verify: true}
    contexts:
    - {name: files, context: {cluster: i, user: t}}
    - {name: exec, context: {cluster: c, user: e}}
    - {name: nouser, context: {cluster: c, user: missing}}
    users:
    - {name: e, user: {exec: {command: aws}}}
    """

    static let cases: [Case] = [
        Case(name: "Talos: client certificate and key as data, CA as data, context namespace",
             files: ["config": talos], list: ["config"], context: nil,
             expected: .success(ClusterConnection(
                server: "https://10.0.60.10:6443",
                tls: TLSOptions(caPEM: caPEM, clientCertificatePEM: certPEM, clientKeyPEM: keyPEM),
                namespace: "network"))),
        Case(name: "client certificate files: relative to the kubeconfig's folder, and absolute",
             files: ["sub/config": files, "sub/certs/client.crt": certPEM, "sub/certs/client.key": keyPEM],
             list: ["sub/config"], context: nil,
             expected: .success(ClusterConnection(
                server: "https://k8s.test:6443",
                tls: TLSOptions(caFile: "/ABS/sub/certs/ca.crt", clientCertificatePEM: certPEM, clientKeyPEM: keyPEM,
                                serverName: "api.internal")))),
        Case(name: "token", files: ["sub/config": files], list: ["sub/config"], context: "tokens",
             expected: .success(ClusterConnection(
                server: "https://k8s.test:6443", tls: TLSOptions(caFile: "/ABS/sub/certs/ca.crt", serverName: "api.internal"),
                credentials: .token("secret-token")))),
        Case(name: "tokenFile relative to the kubeconfig", files: ["sub/config": files], list: ["sub/config"], context: "tokenfile",
             expected: .success(ClusterConnection(
                server: "https://k8s.test:6443", tls: TLSOptions(caFile: "/ABS/sub/certs/ca.crt", serverName: "api.internal"),
                credentials: .tokenFile("/ABS/token")))),
        Case(name: "KUBECONFIG list: first file wins per name, later files add names, missing files skipped",
             files: ["sub/config": files, "sub/certs/client.crt": certPEM, "sub/certs/client.key": keyPEM, "second": second],
             list: ["absent", "sub/config", "second"], context: "insecure",
             expected: .success(ClusterConnection(
                server: "https://insecure.test", tls: TLSOptions(verify: false), credentials: .token("secret-token")))),
        Case(name: "KUBECONFIG list: the first current-context wins", files: ["second": second, "talos": talos],
             list: ["talos", "second"], context: nil,
             expected: .success(ClusterConnection(
                server: "https://10.0.60.10:6443",
                tls: TLSOptions(caPEM: caPEM, clientCertificatePEM: certPEM, clientKeyPEM: keyPEM), namespace: "network"))),
        Case(name: "unknown context", files: ["config": talos], list: ["config"], context: "nope",
             expected: .failure("no context \"nope\"")),
        Case(name: "exec credentials are refused plainly", files: ["second": second], list: ["second"], context: "exec",
             expected: .failure("exec and auth-provider credentials are not supported")),
        Case(name: "context naming a missing user", files: ["second": second], list: ["second"], context: "nouser",
             expected: .failure("no user \"missing\"")),
        Case(name: "certificate file that does not exist", files: ["sub/config": files], list: ["sub/config"], context: nil,
             expected: .failure("cannot read")),
        Case(name: "no file at all", files: [:], list: ["absent", "gone"], context: nil,
             expected: .failure("no kubeconfig found")),
    ]

    @Test("kubeconfig cases", arguments: cases)
    func kubeconfig(_ testCase: Case) throws {
        let folder = try Repository.temporaryFolder("kubeconfig").path
        for (name, text) in testCase.files {
            let path = folder + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.replacingOccurrences(of: "/ABS", with: folder + "/sub").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let paths = KubeConfig.paths(environment: ["KUBECONFIG": testCase.list.map { folder + "/" + $0 }.joined(separator: ":")])
        switch testCase.expected {
        case .success(var expected):
            expected.tls.caFile = expected.tls.caFile?.replacingOccurrences(of: "/ABS", with: folder)
            if case .tokenFile(let path) = expected.credentials {
                expected.credentials = .tokenFile(path.replacingOccurrences(of: "/ABS", with: folder))
            }
            #expect(try KubeConfig.load(paths: paths, context: testCase.context) == expected)
        case .failure(let text):
            let error = #expect(throws: KubeError.self) { try KubeConfig.load(paths: paths, context: testCase.context) }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
        }
    }

    @Test("kubeconfig locations: explicit, KUBECONFIG list, ~/.kube/config")
    func locations() {
        #expect(KubeConfig.paths(explicit: "/etc/k", environment: ["KUBECONFIG": "/a"]) == ["/etc/k"])
        #expect(KubeConfig.paths(environment: ["KUBECONFIG": "/a::/b", "HOME": "/h"]) == ["/a", "/b"])
        #expect(KubeConfig.paths(environment: ["HOME": "/home/me"]) == ["/home/me/.kube/config"])
    }

    @Test("in-cluster: service host and port, IPv6 brackets, CA, namespace, token file")
    func inCluster() throws {
        let folder = try Repository.temporaryFolder("serviceaccount").path
        try "token-1\n".write(toFile: folder + "/token", atomically: true, encoding: .utf8)
        try Self.caPEM.write(toFile: folder + "/ca.crt", atomically: true, encoding: .utf8)
        try "network\n".write(toFile: folder + "/namespace", atomically: true, encoding: .utf8)
        let v4 = try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                          folder: folder)
        #expect(v4 == ClusterConnection(server: "https://10.96.0.1:443", tls: TLSOptions(caFile: folder + "/ca.crt"),
                                        credentials: .tokenFile(folder + "/token"), namespace: "network"))
        let v6 = try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
                                          folder: folder)
        #expect(v6?.server == "https://[fd00::1]:443")
        #expect(try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1"], folder: folder) == nil)
        #expect(throws: KubeError.self) {
            try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "1"], folder: folder + "/none")
        }
    }
}
