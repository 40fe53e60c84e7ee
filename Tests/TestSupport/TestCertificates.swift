import Foundation

/// A CA made by the test with openssl, a server certificate it signed (names `localhost`,
/// `netagent.test`, IP 127.0.0.1) and a client certificate it signed.
public struct TestCertificates: Sendable {
    public let folder: String
    public var caCertificate: String { folder + "/ca.crt" }
    public var serverCertificate: String { folder + "/server.crt" }
    public var serverKey: String { folder + "/server.key" }
    public var clientCertificate: String { folder + "/client.crt" }
    public var clientKey: String { folder + "/client.key" }

    /// One set per test process: openssl runs blocking, and every TLS test generating its own
    /// set kept the few threads of Swift's pool busy.
    public static func make() throws -> TestCertificates { try shared.get() }

    private static let shared: Result<TestCertificates, any Error> = Result { try generate() }

    private static func generate() throws -> TestCertificates {
        guard let openssl = Repository.which("openssl") else { throw TestSupportError("openssl is not installed") }
        let folder = try Repository.temporaryFolder("certs").path
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=netagent test CA",
             "-keyout", "\(folder)/ca.key", "-out", "\(folder)/ca.crt"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "\(folder)/server.key", "-out", "\(folder)/server.csr"],
            ["x509", "-req", "-in", "\(folder)/server.csr", "-CA", "\(folder)/ca.crt", "-CAkey", "\(folder)/ca.key",
             "-CAcreateserial", "-days", "2", "-out", "\(folder)/server.crt", "-extfile", "\(folder)/san.ext"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=netagent-client/O=system:masters",
             "-keyout", "\(folder)/client.key", "-out", "\(folder)/client.csr"],
            ["x509", "-req", "-in", "\(folder)/client.csr", "-CA", "\(folder)/ca.crt", "-CAkey", "\(folder)/ca.key",
             "-CAcreateserial", "-days", "2", "-out", "\(folder)/client.crt"],
        ]
        try "subjectAltName=DNS:localhost,DNS:netagent.test,IP:127.0.0.1\n"
            .write(toFile: "\(folder)/san.ext", atomically: true, encoding: .utf8)
        for step in steps {
            let (status, output) = try runCommand(openssl, step)
            guard status == 0 else { throw TestSupportError("openssl \(step[0]) failed: \(output)") }
        }
        return TestCertificates(folder: folder)
    }

    public func pem(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
}
