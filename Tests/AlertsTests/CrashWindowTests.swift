@testable import Alerts
import Foundation
import GRDB
@testable import NetAgent
import NetIO
@testable import State
import TestSupport
import Testing

/// The one window the outbox cannot close: the relay said 250, the process died before the
/// row was marked delivered. What is promised is that the resend is the same message.
@Suite(.enabled(if: installed("/usr/bin/python3"), "needs Debian's python3-aiosmtpd"))
struct CrashWindowTests {
    @Test func aCrashAfterThe250ResendsTheIdenticalMessageWithItsMessageID() async throws {
        let relay = try await TestRelay()
        let path = try temporaryStatePath()
        let store = try StateStore(path: path)
        let mailer = AlertMailer(relay: SMTPRelay(url: relay.url, startTLS: .none))
        let service = try await AlertService(policy: Fixture.policy(for: 0), store: store, mailer: mailer)
        await service.observe([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        #expect(try await service.step(now: Fixture.at(0)).delivery?.delivered.count == 1)
        // Play the crash: the relay has the mail, the state file never heard of the 250.
        try await store.write("test: undo the delivered mark") { db in
            try db.execute(sql: "UPDATE outbox SET status = 'pending', delivered_at = NULL")
        }
        let restarted = try await AlertService(policy: Fixture.policy(for: 0), store: try StateStore(path: path), mailer: mailer)
        #expect(try await restarted.step(now: Fixture.at(30)).delivery?.delivered.count == 1)
        #expect(try await restarted.step(now: Fixture.at(60)).delivery?.delivered.isEmpty == true)

        let mails = try relay.received()
        #expect(mails.count == 2)
        #expect(Set(mails.map(\.messageID)).count == 1, "a reader's client de-duplicates on the Message-ID")
        let raw = try FileManager.default.contentsOfDirectory(atPath: relay.folder.path).filter { $0.hasSuffix(".eml") }.sorted()
            .map { try Data(contentsOf: relay.folder.appendingPathComponent($0)) }
        #expect(raw.count == 2 && raw.first == raw.last, "the resend is byte for byte the same message")
    }
}
