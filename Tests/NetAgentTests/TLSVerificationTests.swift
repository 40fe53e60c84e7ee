import Alerts
import Config
import Foundation
import NetAgent
import NetIO
import TestSupport
import Testing

/// TLS is verified wherever netagent sends a secret (docs/security.md): the Cloudflare API, a
/// Pi-hole over https and the Kubernetes API refuse a certificate the system does not trust, and
/// an SMTP password goes only over TLS unless the configuration says otherwise.
@Suite struct TLSVerificationTests {
    @Test("plan --config against an untrusted https server: Cloudflare, Pi-hole and Kubernetes each refuse it")
    func providersAndClusterVerify() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs)
        let folder = try Repository.temporaryFolder("tls-verify")
        let kubeconfig = try Kubeconfig.write(in: folder, server: server.url(""), token: "kube-canary-token")
        let routes = folder.appendingPathComponent("routes.yaml")
        try [GatewayFixtures.gatewayYAML, GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])]
            .joined(separator: "\n---\n").write(to: routes, atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_TLS_TOKEN": "tls-canary-token"]) { $1 }
        // The providers, with routes from a file; then the cluster as the source, with no provider.
        let cases = [
            ("providers", """
                sources: { manifests: [\(routes.path)] }
                providers:
                  - { name: cloudflare, type: cloudflare, apiURL: "\(server.url("/client/v4"))", apiTokenEnv: NETAGENT_TLS_TOKEN, zones: [home.test] }
                  - { name: pihole, type: pihole, url: "\(server.url(""))", passwordEnv: NETAGENT_TLS_TOKEN }
                """, ["cloudflare", "pihole"]),
            ("cluster", "sources: { kubernetes: { kubeconfig: \(kubeconfig.path) } }",
             ["gateways", "httproutes", "grpcroutes", "namespaces"]),
        ]
        for (name, sources, refusers) in cases {
            let config = folder.appendingPathComponent("\(name).yaml")
            try """
                cluster: { name: lab, network: 127.0.0.0/8, nodes: [{ name: n1, address: 127.0.0.1 }] }
                \(sources)
                state: { path: \(folder.appendingPathComponent("state.sqlite").path) }
                """.write(to: config, atomically: true, encoding: .utf8)
            let run = try await Netagent.run(binary, ["plan", "--config", config.path], environment: environment)
            let output = run.stdout + run.stderr
            // curl's words for an untrusted certificate (code 60), on the line naming each endpoint.
            let lines = output.split(separator: "\n").filter { $0.contains("SSL certificate problem") }
            for refuser in refusers {
                #expect(lines.contains { $0.contains(refuser) }, "\(name): \(refuser) did not refuse the certificate:\n\(output)")
            }
            #expect(!output.contains("tls-canary-token") && !output.contains("kube-canary-token"))
            #expect(run.status == 1, "\(name): a plan whose sources or providers could not be read must exit 1")
        }
    }

    static func smtpConfig(url: String, starttls: String?) -> String {
        """
        cluster: { name: lab, network: 127.0.0.0/8, nodes: [{ name: n1, address: 127.0.0.1 }] }
        alerting:
          smtp:
            url: \(url)
            from: netagent@home.test
            to: [owner@home.test]
            username: netagent
            passwordEnv: NETAGENT_SMTP_PASSWORD
        \(starttls.map { "    starttls: \($0)" } ?? "")
        """
    }

    @Test("an SMTP password makes STARTTLS required by default; without a password it stays opportunistic")
    func starttlsDefault() throws {
        let withPassword = try NetAgentConfig.parse(yaml: Self.smtpConfig(url: "smtp://relay.test:25", starttls: nil),
                                                    file: "t.yaml", baseDirectory: "/")
        #expect(withPassword.alerting?.smtp.starttls == .required)
        let asked = try NetAgentConfig.parse(yaml: Self.smtpConfig(url: "smtp://relay.test:25", starttls: "opportunistic"),
                                             file: "t.yaml", baseDirectory: "/")
        #expect(asked.alerting?.smtp.starttls == .opportunistic)
        let noPassword = try NetAgentConfig.parse(yaml: """
            cluster: { name: lab, network: 127.0.0.0/8, nodes: [{ name: n1, address: 127.0.0.1 }] }
            alerting: { smtp: { url: "smtp://relay.test:25", from: a@home.test, to: [b@home.test] } }
            """, file: "t.yaml", baseDirectory: "/")
        #expect(noPassword.alerting?.smtp.starttls == .opportunistic)
    }

    @Test("a relay that offers no STARTTLS (as when a man in the middle strips it) never gets the password")
    func passwordNeverInClear() async throws {
        let password = "smtp-clear-canary-Hx81"
        let relay = try await SecretLeakTests.AuthRelay(password: password, certificates: nil)
        let config = try NetAgentConfig.parse(yaml: Self.smtpConfig(url: "smtp://127.0.0.1:\(relay.port)", starttls: nil),
                                              file: "t.yaml", baseDirectory: "/")
        let smtp = try #require(config.alerting?.smtp)
        let mailer = AlertMailer(config: smtp, password: Secret(password))
        let message = Array("Subject: t\r\n\r\nbody\r\n".utf8)
        await #expect(throws: SMTPError.self) {
            try await mailer.client.send(message: message, from: smtp.from, to: smtp.to, via: mailer.relay)
        }
        #expect(relay.authLog.isEmpty, "the relay saw AUTH: \(relay.authLog)")
        #expect(relay.mails.isEmpty)

        // The same relay with `starttls: opportunistic` spelled out does get it: the key means what it says.
        let clear = try NetAgentConfig.parse(yaml: Self.smtpConfig(url: "smtp://127.0.0.1:\(relay.port)", starttls: "opportunistic"),
                                             file: "t.yaml", baseDirectory: "/")
        let clearMailer = AlertMailer(config: try #require(clear.alerting?.smtp), password: Secret(password))
        _ = try await clearMailer.client.send(message: message, from: smtp.from, to: smtp.to, via: clearMailer.relay)
        #expect(relay.authLog.contains("ok"))
    }
}
