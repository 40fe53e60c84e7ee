import Foundation
import Lab
import Testing
import TestSupport

/// The alert relay misbehaving while an alert fires and resolves. The alert: Cloudflare's token
/// is revoked at start (provider-failing) and given back later.
@Suite struct SMTPFaultTests {
    static let key = "provider-failing cloudflare"

    @Test("smtp-relay-down") func relayDownThenUp() async throws {
        try await Scenario(
            id: "smtp-relay-down", area: "SMTP", fault: "the relay is down (connection refused) when the alert fires, up 5 s later",
            assertions: "the firing mail waits in the outbox and is delivered once; the resolved mail once; nothing pending or lost"
        ).run {
            try await FaultLab.with(FaultLab.Setup(piholes: 0)) { lab in
                let cloudflare = try #require(lab.cloudflare)
                lab.relay.stop()
                await cloudflare.faults.revokeToken(FaultLab.token)
                try lab.startAgent()
                try await eventually("the agent tried the relay and deferred the mail", timeout: .seconds(60)) {
                    lab.agentOutput.contains("alert mail deferred")
                }
                try await Task.sleep(for: .seconds(5))
                try await lab.relay.start()
                try await lab.waitForMail("FIRING", key: Self.key)
                await cloudflare.faults.restoreToken(FaultLab.token)
                try await lab.waitUntilConverged("after the token is back")
                try await lab.waitForMail("RESOLVED", key: Self.key)
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes(of: Self.key).map(\.fired) == [1], "\(mail.summary)")
                let attempts = mail.outbox.map(\.attempts).max() ?? 0
                #expect(attempts >= 2, "the firing mail was tried while the relay was down")
                return "queued, retried (\(attempts) attempts), delivered once the relay was back; \(mail.summary)"
            }
        }
    }

    // The waits for the first attempts allow what `waitForMail` allows (60 s): the mail exists only
    // once the alert fired, which a CI run's parallel load delayed past 20 s.
    @Test("smtp-4xx") func temporaryFailure() async throws {
        try await Scenario(
            id: "smtp-4xx", area: "SMTP", fault: "the relay answers 451 to DATA until switched back to 250",
            assertions: "the firing mail is retried and taken exactly once; its Message-ID was refused first; nothing pending or lost"
        ).run {
            try await FaultLab.with(FaultLab.Setup(piholes: 0)) { lab in
                let cloudflare = try #require(lab.cloudflare)
                try lab.relay.setMode(.tempfail)
                await cloudflare.faults.revokeToken(FaultLab.token)
                try lab.startAgent()
                try await eventually("the relay refused the mail twice", timeout: .seconds(60)) { lab.relay.refusals().count >= 2 }
                try lab.relay.setMode(.accept)
                try await lab.waitForMail("FIRING", key: Self.key)
                await cloudflare.faults.restoreToken(FaultLab.token)
                try await lab.waitUntilConverged("after the token is back")
                try await lab.waitForMail("RESOLVED", key: Self.key)
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                let refused = Set(lab.relay.refusals().map(\.messageID))
                let firing = try #require(mail.mails.first)
                #expect(refused == [firing.messageID], "the refused mail is the one later taken")
                #expect(mail.episodes(of: Self.key).map(\.fired) == [1], "\(mail.summary)")
                return "\(lab.relay.refusals().count) × 451, then taken once; \(mail.summary)"
            }
        }
    }

    @Test("smtp-5xx") func permanentFailure() async throws {
        try await Scenario(
            id: "smtp-5xx", area: "SMTP", fault: "the relay answers 550 to the firing mail, then accepts again",
            assertions: "the refused mail is kept as rejected, tried once, never sent again; the resolved mail is taken once"
        ).run {
            try await FaultLab.with(FaultLab.Setup(piholes: 0)) { lab in
                let cloudflare = try #require(lab.cloudflare)
                try lab.relay.setMode(.reject)
                await cloudflare.faults.revokeToken(FaultLab.token)
                try lab.startAgent()
                try await eventually("the relay refused the mail") { !lab.relay.refusals().isEmpty }
                // Several retry delays (1 s) and alert steps (5 s) pass: a rejected mail is not tried again.
                try await Task.sleep(for: .seconds(7))
                try lab.relay.setMode(.accept)
                await cloudflare.faults.restoreToken(FaultLab.token)
                try await lab.waitUntilConverged("after the token is back")
                try await lab.waitForMail("RESOLVED", key: Self.key)
                try await lab.stopAgent()
                let refusals = lab.relay.refusals()
                #expect(refusals.count == 1 && refusals.allSatisfy { $0.code == 550 }, "\(refusals)")
                let mail = try await lab.mailLedger()
                let rejected = mail.outbox.filter { $0.status == .rejected }
                #expect(rejected.count == 1 && rejected.allSatisfy { $0.attempts == 1 && $0.replyCode == 550 }, "\(rejected)")
                #expect(!mail.mails.contains { $0.messageID.contains(rejected.first?.messageID ?? "-") })
                #expect(mail.sentTwice.isEmpty && mail.lost.isEmpty, "\(mail.sentTwice) \(mail.lost)")
                #expect(mail.mails.count == 1 && mail.mails.allSatisfy { $0.subject.hasPrefix("[RESOLVED]") }, "\(mail.summary)")
                return "550 once, kept as rejected; the resolved mail delivered; \(mail.summary)"
            }
        }
    }

    @Test("smtp-slow-250-shutdown") func shutdownWhileTheRelayAnswers() async throws {
        try await Scenario(
            id: "smtp-slow-250-shutdown", area: "SMTP",
            fault: "the relay stores the firing mail but answers 250 only 3 s later; SIGTERM comes in between",
            assertions: "the agent waits for the 250 before it exits; the mail is marked delivered and taken once, not sent again by the last step"
        ).run {
            try await FaultLab.with(FaultLab.Setup(piholes: 0)) { lab in
                let cloudflare = try #require(lab.cloudflare)
                try lab.relay.setMode(.slow)
                await cloudflare.faults.revokeToken(FaultLab.token)
                try lab.startAgent()
                try await lab.waitForMail("FIRING", key: Self.key)
                #expect(try await lab.stopAgent() == 0)
                let mail = try await lab.mailLedger()
                #expect(mail.sentTwice.isEmpty && mail.lost.isEmpty, "\(mail.sentTwice) \(mail.lost)")
                #expect(mail.mails.count == 1, "\(mail.summary)")
                #expect(mail.outbox.map(\.status) == [.delivered], "\(mail.outbox)")
                return "the shutdown waited for the relay's answer; \(mail.summary)"
            }
        }
    }
}
