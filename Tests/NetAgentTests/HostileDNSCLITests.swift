import Foundation
import Testing
import TestSupport

/// `netagent resolve` against hostile DNS servers on loopback (issue 20, defects 1 and 12).
@Suite("netagent resolve against hostile servers")
struct HostileDNSCLITests {
    static let escape = "\u{1B}]0;owned\u{07}\u{1B}[2J"

    @Test func aTimeoutOf1790HoursIsRefusedWithTheMaximumNotACrash() throws {
        let outcome = try ResolveCLITests.run(["a.test", "--server", "127.0.0.1:53", "--timeout", "1790h"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("--timeout 1790h is above the 5m maximum"), "\(outcome.stderr)")
    }

    @Test func controlCharactersInAnswersAreEscapedInTheOutput() throws {
        // A CNAME whose target labels hold ESC sequences and a line break, then a TXT record.
        let target = DNSReplyBuilder.name(["evil" + Self.escape, "x\r\nforged\tline", "test"])
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, question: query.question, answers: [
                (nil, 5, target), (target, 1, [198, 18, 0, 10]),
            ])
        }
        let outcome = try ResolveCLITests.run(["app.test", "--server", server.server])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("\u{1B}"))
        #expect(!outcome.stdout.contains("\u{07}"))
        #expect(!outcome.stdout.contains("\r"))
        #expect(outcome.stdout.contains("evil\\e]0;owned\\u{7}\\e[2j.x\\r\\nforged\\tline.test."), "\(outcome.stdout)")
        // The forged line did not become a line of its own.
        #expect(!outcome.stdout.split(separator: "\n").contains { $0.hasPrefix("forged") })
    }

    @Test func aReplyWithTheQRBitClearIsRefused() throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, flags: 0x0100, question: query.question, answers: [(nil, 1, [198, 18, 0, 10])])
        }
        let outcome = try ResolveCLITests.run(["app.test", "--server", server.server, "--timeout", "1s"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("QR bit clear"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("198.18.0.10"))
    }
}
