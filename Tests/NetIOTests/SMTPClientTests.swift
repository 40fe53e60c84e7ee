import Foundation
import NetIO
import Testing
import TestSupport

@Suite(.enabled(if: installed("/usr/bin/python3", "openssl"), "needs Debian's python3-aiosmtpd and openssl"))
struct SMTPClientTests {
    let client = SMTPClient()

    static func message(subject: String) -> [UInt8] {
        let lines = [
            "From: netagent@example.com",
            "To: owner@example.com",
            "Subject: \(subject)",
            "Message-ID: <\(UUID().uuidString)@netagent.test>",
            "",
            "k8s-6 unreachable since 12:00",
            ".a line that starts with a dot",
            "last line",
        ]
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    @Test func messageArrivesIntact() async throws {
        let sink = try await SMTPSink()
        let receipt = try await client.send(
            message: Self.message(subject: "[FIRING:1] home: k8s-6"), from: "netagent@example.com",
            to: ["owner@example.com", "second@example.com"], via: SMTPRelay(url: sink.url, startTLS: .none))
        #expect(receipt.code == 250)
        let stored = sink.messages()
        #expect(stored.count == 1)
        let text = try #require(stored.first)
        #expect(text.contains("Subject: [FIRING:1] home: k8s-6"))
        #expect(text.contains("\n.a line that starts with a dot"))
        #expect(text.contains("last line"))
        #expect(text.contains("X-RcptTo: owner@example.com, second@example.com"))
    }

    @Test func opportunisticSTARTTLSGoesOnInClearWithoutIt() async throws {
        let sink = try await SMTPSink()
        let receipt = try await client.send(
            message: Self.message(subject: "opportunistic"), from: "a@example.com", to: ["b@example.com"],
            via: SMTPRelay(url: sink.url, startTLS: .opportunistic))
        #expect(receipt.code == 250)
        #expect(sink.messages().count == 1)
    }

    @Test func requiredSTARTTLSFailsClearlyWithoutIt() async throws {
        let sink = try await SMTPSink()
        do {
            _ = try await client.send(
                message: Self.message(subject: "x"), from: "a@example.com", to: ["b@example.com"],
                via: SMTPRelay(url: sink.url, startTLS: .required))
            Issue.record("a relay without STARTTLS took mail under the required policy")
        } catch {
            #expect(error.underlying.code == 64)
            #expect(!error.isPermanent)
        }
        #expect(sink.messages().isEmpty)
    }

    @Test func requiredSTARTTLSWithATrustedCertificate() async throws {
        let certs = try TestCertificates.make()
        let sink = try await SMTPSink(tls: (certs.serverCertificate, certs.serverKey))
        let receipt = try await client.send(
            message: Self.message(subject: "over TLS"), from: "a@example.com", to: ["b@example.com"],
            via: SMTPRelay(url: "smtp://localhost:\(sink.port)", startTLS: .required, tls: TLSOptions(caFile: certs.caCertificate)))
        #expect(receipt.code == 250)
        #expect(sink.messages().first?.contains("Subject: over TLS") == true)
    }

    @Test func relayDownIsATemporaryFailure() async throws {
        let port = try freeLoopbackPort()
        do {
            _ = try await client.send(
                message: Self.message(subject: "x"), from: "a@example.com", to: ["b@example.com"],
                via: SMTPRelay(url: "smtp://127.0.0.1:\(port)"))
            Issue.record("sent to a closed port")
        } catch {
            #expect(error.underlying.code == 7)
            #expect(error.replyCode == 0)
            #expect(!error.isPermanent)
        }
    }
}
