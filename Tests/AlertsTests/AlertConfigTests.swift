import Alerts
import Config
import Foundation
import NetAgent
import NetIO
import Testing

/// The policy and the relay come from the configuration as the daemon will load it.
struct AlertConfigTests {
    static let yaml = """
        cluster:
          name: home
          network: 10.0.60.0/24
          nodes:
            - { name: k8s-1, address: 10.0.60.21, role: controlplane }
            - { name: k8s-4, address: 10.0.60.24, offline: "PSU not working" }
            - { name: k8s-10, address: 10.0.60.30, offline: "not starting" }
        alerting:
          smtp:
            url: smtp://relay.example.com:587/netagent.example.com
            from: netagent@example.com
            to: [owner@example.com, second@example.com]
            starttls: required
            username: netagent
            passwordEnv: SMTP_PASSWORD
          for: 3m
          repeatInterval: 2h
          silences:
            - { rule: mtu, until: "2026-12-24T18:00:00Z", comment: switch swap }

        """

    @Test func policyAndRelayFromTheConfiguration() throws {
        let config = try NetAgentConfig.parse(yaml: Self.yaml, file: "test.yaml", baseDirectory: "/etc/netagent")
        let alerting = try #require(config.alerting)
        let policy = AlertPolicy(config: alerting, cluster: config.cluster)
        #expect(policy.cluster == "home")
        #expect(policy.forDuration == 180 && policy.repeatInterval == 7200)
        #expect(policy.offlineNodes == ["k8s-4", "k8s-10"])
        #expect(policy.from == "netagent@example.com" && policy.to == ["owner@example.com", "second@example.com"])
        #expect(policy.silences.map(\.rule) == ["mtu"])
        #expect(policy.silences.first?.mutes(AlertKey(rule: .mtu, target: "k8s-6"), at: Fixture.t0) == true)
        #expect(policy.silences.first?.mutes(AlertKey(rule: .nodeDown, target: "k8s-6"), at: Fixture.t0) == false)

        let secrets = try config.resolveSecrets(environment: ["SMTP_PASSWORD": "hunter2"])
        let mailer = AlertMailer(config: alerting.smtp, password: secrets.smtpPassword)
        #expect(mailer.relay.url == "smtp://relay.example.com:587/netagent.example.com")
        #expect(mailer.relay.startTLS == .required)
        #expect(mailer.relay.username == "netagent" && mailer.relay.password == "hunter2")
    }
}
