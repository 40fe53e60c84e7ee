import Alerts
import Foundation
import NetAgent
import NetIO
import Probes
import State
import TestSupport
import Testing

/// Alerts end to end: engine → outbox in a real state file → libcurl → aiosmtpd on loopback,
/// with the relay down, restarted, TLS-only and refusing. Time is the `now` each step is given.
@Suite(.enabled(if: installed("/usr/bin/python3", "openssl"), "needs Debian's python3-aiosmtpd and openssl"))
struct AlertDeliveryTests {
    static let down: [ProbeResult] = {
        // Without facts the cause is the probe's own words: here hostile ones, which the mail must escape.
        let odd = ProbeResult.failure(.nodes, "k8s-7", .timeout, phase: "connect",
                                      "<script>alert(1)</script> & a = sign, then a long line " + String(repeating: "x", count: 120))
        return [Fixture.nodeDown("k8s-6"), odd]
    }()
    static let up = [Fixture.nodeOK("k8s-6"), Fixture.nodeOK("k8s-7")]

    static func service(_ path: String, url: String, policy: AlertPolicy = Fixture.policy(),
                        relay: (inout SMTPRelay) -> Void = { _ in }) async throws -> AlertService {
        var smtp = SMTPRelay(url: url, startTLS: .none, timeout: .seconds(10))
        relay(&smtp)
        return try await AlertService(policy: policy, store: try StateStore(path: path), mailer: AlertMailer(relay: smtp),
                                      retry: RetryPolicy(initial: 10, maximum: 60))
    }

    @Test func firingAndResolvedMailWithSubjectsAndThreading() async throws {
        let relay = try await TestRelay()
        let service = try await Self.service(try temporaryStatePath(), url: relay.url)
        await service.observe(Self.down, at: Fixture.at(0))
        #expect(try await service.step(now: Fixture.at(0)).queued.isEmpty, "pending until `for` has passed")
        await service.observe(Self.down, at: Fixture.at(120))
        let fired = try await service.step(now: Fixture.at(120))
        #expect(fired.delivery?.delivered.count == 1)
        await service.observe(Self.up, at: Fixture.at(300))
        _ = try await service.step(now: Fixture.at(300))

        let mails = try relay.received()
        try #require(mails.count == 2)
        let (firing, resolved) = (mails[0], mails[1])
        #expect(firing.subject == "[FIRING:2] home: nodes unreachable (k8s-6, k8s-7)")
        #expect(resolved.subject == "[RESOLVED] home: nodes unreachable (k8s-6, k8s-7)")
        #expect(firing.inReplyTo == nil && firing.references == nil)
        #expect(resolved.inReplyTo == firing.messageID)
        #expect(resolved.references == firing.messageID)
        for mail in mails {
            #expect(mail.defects.isEmpty, "Python's parser found defects: \(mail.defects)")
            #expect(mail.bareLineEnds == 0 && mail.longestLine <= 78 && !mail.nonASCII)
            #expect(mail.contentType == "multipart/alternative")
            #expect(mail.parts.map(\.type) == ["text/plain", "text/html"])
            #expect(mail.from == "netagent@example.com" && mail.to == "owner@example.com")
            #expect(mail.rcptTos == ["owner@example.com"] && mail.mailFrom == "netagent@example.com")
            #expect(mail.date?.hasPrefix("2026-11-18T11:") == true)
        }
        #expect(firing.text.contains("FIRING k8s-6"))
        #expect(firing.text.contains("since 2026-11-18 11:06:40 UTC, for 2m"))
        #expect(firing.text.contains("tcp/10250: timeout 2.00s"))
        #expect(firing.html.contains("<th align=\"left\">icmp</th><td>0/3 replies</td>"))
        #expect(firing.html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; a = sign"))
        #expect(!firing.html.contains("<script>"))
        #expect(firing.text.contains("<script>alert(1)</script> & a = sign, then a long line " + String(repeating: "x", count: 120)),
                "quoted-printable soft breaks decode back to the one long line")
        #expect(resolved.text.contains("RESOLVED k8s-7"))
        #expect(resolved.text.contains("resolved 2026-11-18 11:11:40 UTC after 5m"))
        let outbox = try await service.outbox.entries()
        #expect(outbox.map(\.status) == [.delivered, .delivered])
        #expect(outbox.map(\.replyCode) == [250, 250])
        #expect(outbox.map { "<\($0.messageID)>" } == mails.map(\.messageID))
        // Delivered mail leaves the outbox after the retention; nothing is sent again.
        let month = try await service.step(now: Fixture.at(300 + AlertOutbox.deliveredRetention + 1))
        #expect(month.queued.isEmpty)
        #expect(try await service.outbox.entries().isEmpty)
        #expect(try relay.received().count == 2)
    }

    @Test func relayDownForAWhileAndBackDeliversEveryMailExactlyOnce() async throws {
        let port = try freeLoopbackPort()
        let folder = try Repository.temporaryFolder("relay")
        let service = try await Self.service(try temporaryStatePath(), url: "smtp://127.0.0.1:\(port)", policy: Fixture.policy(for: 0))
        await service.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let first = try await service.step(now: Fixture.at(0))
        #expect(first.queued.count == 1)
        #expect(first.delivery?.deferred.map(\.replyCode) == [0])
        await service.observe([Fixture.mtu("k8s-7")], at: Fixture.at(5))
        _ = try await service.step(now: Fixture.at(5))
        await service.observe([Fixture.nodeOK("k8s-6")], at: Fixture.at(30))
        _ = try await service.step(now: Fixture.at(30))
        let waiting = try await service.outbox.entries(.pending)
        #expect(waiting.count == 3, "three mails decided while the relay was down, none lost")

        let relay = try await TestRelay(port: port, folder: folder)
        let back = try await service.step(now: Fixture.at(100))
        #expect(back.delivery?.delivered.count == 3)
        for minute in 2...6 { _ = try await service.step(now: Fixture.at(Double(minute) * 60)) }

        let mails = try relay.received()
        #expect(mails.map(\.subject) == ["[FIRING:1] home: nodes unreachable (k8s-6)", "[FIRING:1] home: path MTU wrong (k8s-7)",
                                         "[RESOLVED] home: nodes unreachable (k8s-6)"])
        #expect(Set(mails.map(\.messageID)).count == 3)
        #expect(mails[2].inReplyTo == mails[0].messageID)
        let outbox = try await service.outbox.entries()
        #expect(outbox.allSatisfy { $0.status == .delivered })
        #expect(outbox[0].attempts >= 2)
    }

    @Test func restartWithUndeliveredMailInTheOutbox() async throws {
        let path = try temporaryStatePath()
        let port = try freeLoopbackPort()
        do {
            let before = try await Self.service(path, url: "smtp://127.0.0.1:\(port)", policy: Fixture.policy(for: 0))
            await before.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
            #expect(try await before.step(now: Fixture.at(0)).delivery?.deferred.count == 1)
        }
        // The process is gone; the relay comes up; a new process opens the same state file.
        let relay = try await TestRelay(port: port)
        let after = try await Self.service(path, url: relay.url, policy: Fixture.policy(for: 0))
        #expect(try await after.step(now: Fixture.at(60)).delivery?.delivered.count == 1)
        await after.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(90))
        #expect(try await after.step(now: Fixture.at(90)).queued.isEmpty, "the restarted engine remembers it already mailed")
        await after.observe([Fixture.nodeOK("k8s-6")], at: Fixture.at(120))
        _ = try await after.step(now: Fixture.at(120))

        let mails = try relay.received()
        #expect(mails.map(\.subject) == ["[FIRING:1] home: nodes unreachable (k8s-6)", "[RESOLVED] home: nodes unreachable (k8s-6)"])
        #expect(mails.last?.inReplyTo == mails.first?.messageID)
    }

    @Test func startTLSRequiredWithACATheTestMade() async throws {
        let certs = try TestCertificates.make()
        let relay = try await TestRelay(tls: certs)
        let path = try temporaryStatePath()
        let url = "smtp://localhost:\(relay.port)"
        // Without the test CA the certificate is untrusted: deferred, never sent in clear.
        let untrusted = try await Self.service(path, url: url, policy: Fixture.policy(for: 0)) { smtp in
            smtp.startTLS = .required
            smtp.username = "netagent"
            smtp.password = "hunter2-relay-secret"
        }
        await untrusted.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let refused = try await untrusted.step(now: Fixture.at(0))
        let deferred = try #require(refused.delivery?.deferred.first)
        #expect(deferred.status == .pending && deferred.replyCode != 250)
        #expect(deferred.lastError?.contains("curl code 60") == true)
        #expect(deferred.lastError?.contains("hunter2") == false)
        #expect(try relay.received().isEmpty)

        let trusted = try await Self.service(path, url: url, policy: Fixture.policy(for: 0)) { smtp in
            smtp.startTLS = .required
            smtp.tls = TLSOptions(caFile: certs.caCertificate)
        }
        #expect(try await trusted.step(now: Fixture.at(60)).delivery?.delivered.count == 1)
        #expect(try relay.received().map(\.subject) == ["[FIRING:1] home: nodes unreachable (k8s-6)"])
    }

    @Test func aPermanentRejectionIsKeptAndReportedNotRetried() async throws {
        let relay = try await TestRelay(rejectPrefix: "refuse")
        var policy = Fixture.policy(for: 0)
        policy.to = ["refuse-owner@example.com"]
        let service = try await Self.service(try temporaryStatePath(), url: relay.url, policy: policy)
        await service.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let step = try await service.step(now: Fixture.at(0))
        let rejected = try #require(step.delivery?.rejected.first)
        #expect(rejected.replyCode == 550)
        #expect(rejected.status == .rejected)
        #expect(rejected.lastError?.isEmpty == false)
        // Still down, hourly (the repeat is 4h away): nothing new, and the refused mail is not tried again.
        for hour in 1...3 {
            await service.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(Double(hour) * 3600 - 60))
            let later = try await service.step(now: Fixture.at(Double(hour) * 3600 - 60))
            #expect(later.delivery?.rejected.isEmpty == true && later.delivery?.deferred.isEmpty == true)
        }
        let kept = try await service.outbox.entries(.rejected)
        #expect(kept.map(\.subject) == ["[FIRING:1] home: nodes unreachable (k8s-6)"])
        #expect(kept.first?.attempts == 1, "a 5xx is not retried")
        #expect(try relay.received().isEmpty)
    }

    @Test func inhibitedAlertsAndKnownOfflineNodesSendNothing() async throws {
        let relay = try await TestRelay()
        let service = try await Self.service(try temporaryStatePath(), url: relay.url)
        let offline = [Fixture.knownOffline("k8s-4"), Fixture.nodeDown("k8s-10"), Fixture.mtu("k8s-4", fault: .icmpUnavailable)]
        for minute in 0...5 {
            // As ProbeScheduler's synchronous onResults would hand them in.
            service.record(offline, at: Fixture.at(Double(minute) * 60))
            _ = try await service.step(now: Fixture.at(Double(minute) * 60))
        }
        #expect(try await service.outbox.entries().isEmpty)
        #expect(try relay.received().isEmpty)

        let outage = offline + [Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-6", fault: .unreachable), Fixture.vip(up: false)]
            + ["k8s-1", "k8s-3", "k8s-5"].map { Fixture.nodePorts($0, failing: [6443]) }
        for minute in 6...10 {
            service.record(outage, at: Fixture.at(Double(minute) * 60))
            _ = try await service.step(now: Fixture.at(Double(minute) * 60))
        }
        let subjects = try relay.received().map(\.subject).sorted()
        #expect(subjects == ["[FIRING:1] home: control-plane VIP down (10.0.60.10:6443)",
                             "[FIRING:1] home: nodes unreachable (k8s-6)"])
    }
}
