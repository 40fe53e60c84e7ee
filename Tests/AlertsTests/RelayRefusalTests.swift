import Foundation
import Alerts
import Config
import NetAgent
import State
@testable import NetIO
import Testing
import TestSupport

/// Issue 20, defect 13: a relay that refuses netagent itself (535, a failed TLS handshake) is
/// a relay problem: the mail stays queued and the relay is reported; only a 5xx about the
/// message rejects it (AlertDeliveryTests covers the 550).
@Suite(.enabled(if: installed("/usr/bin/python3", "openssl"), "needs Debian's python3-aiosmtpd and openssl"))
struct RelayRefusalTests {
    static func service(_ path: String, port: Int, password: String, startTLS: STARTTLSPolicy = .none,
                        ca: String? = nil) async throws -> AlertService {
        let smtp = SMTPRelay(url: "smtp://localhost:\(port)", startTLS: startTLS, username: "netagent", password: password,
                             tls: TLSOptions(caFile: ca), timeout: .seconds(10))
        return try await AlertService(policy: Fixture.policy(for: 0), store: try StateStore(path: path),
                                      mailer: AlertMailer(relay: smtp), retry: RetryPolicy(initial: 10, maximum: 60))
    }

    @Test func aRefusedLoginKeepsTheMailQueuedAndSaysSo() async throws {
        let relay = try await SMTPAuthRelay(password: "the-right-one", certificates: nil)
        let path = try temporaryStatePath()
        let wrong = try await Self.service(path, port: relay.port, password: "a-wrong-one")
        await wrong.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let step = try await wrong.step(now: Fixture.at(0))
        let delivery = try #require(step.delivery)
        #expect(delivery.rejected.isEmpty, "a 535 is about the relay, not the message")
        let deferred = try #require(delivery.deferred.first)
        #expect(deferred.status == .pending)
        #expect(deferred.replyCode == 535, "\(deferred)")
        #expect(delivery.relayProblem?.contains("535") == true, "\(String(describing: delivery.relayProblem))")
        #expect(deferred.lastError?.contains("a-wrong-one") == false)
        #expect(relay.authLog.contains("refused"))
        // Another alert raised while the password is wrong queues behind it.
        await wrong.observe([Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")], at: Fixture.at(30))
        _ = try await wrong.step(now: Fixture.at(30))
        #expect(try await wrong.outbox.pendingCount() >= 1)
        #expect(try await wrong.outbox.entries(.rejected).isEmpty)

        // The password fixed: every alert mail raised meanwhile goes out.
        let fixed = try await Self.service(path, port: relay.port, password: "the-right-one")
        let later = try await fixed.step(now: Fixture.at(3600))
        #expect(later.delivery?.relayProblem == nil)
        #expect(try await fixed.outbox.pendingCount() == 0)
        #expect(try await fixed.outbox.entries(.rejected).isEmpty)
        #expect(!relay.mails.isEmpty)
    }

    @Test func aFailedTLSHandshakeKeepsTheMailQueued() async throws {
        let certificates = try TestCertificates.make()
        let relay = try await SMTPAuthRelay(password: "pw-for-tls", certificates: certificates)
        let path = try temporaryStatePath()
        // No CA given: the relay's certificate is untrusted, STARTTLS is required.
        let untrusted = try await Self.service(path, port: relay.port, password: "pw-for-tls", startTLS: .required)
        await untrusted.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let step = try await untrusted.step(now: Fixture.at(0))
        #expect(step.delivery?.rejected.isEmpty == true)
        #expect(step.delivery?.relayProblem != nil, "\(String(describing: step.delivery))")
        #expect(try await untrusted.outbox.pendingCount() == 1)
    }

    @Test func smtpErrorsTellTheRelayFromTheMessage() {
        func error(_ curl: Int, _ reply: Int) -> SMTPError {
            SMTPError(underlying: NetIOError(kind: .transfer, code: curl, message: "x"), replyCode: reply)
        }
        #expect(error(67, 535).isRelayProblem && !error(67, 535).isPermanent)
        #expect(error(64, 0).isRelayProblem)
        #expect(error(60, 0).isRelayProblem)
        #expect(error(55, 550).isPermanent && !error(55, 550).isRelayProblem)
        #expect(error(8, 554).isPermanent)
        #expect(!error(7, 0).isPermanent)
    }
}
