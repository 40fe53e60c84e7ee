import Foundation
import NetAgent
import NetIO
import TestSupport

/// A mail as the test relay (Tests/Fixtures/smtp_relay.py) parsed it with Python's email package.
struct ReceivedMail: Decodable {
    struct Part: Decodable {
        var type: String
        var charset: String?
        var content: String
    }

    var mailFrom: String
    var rcptTos: [String]
    var subject: String
    var messageID: String
    var inReplyTo: String?
    var references: String?
    var date: String?
    var from: String
    var to: String
    var contentType: String
    var parts: [Part]
    var defects: [String]
    var bareLineEnds: Int
    var longestLine: Int
    var nonASCII: Bool

    var text: String { parts.first { $0.type == "text/plain" }?.content ?? "" }
    var html: String { parts.first { $0.type == "text/html" }?.content ?? "" }
}

/// aiosmtpd with the tests' handler on a loopback port: keeps each message and its parsed
/// summary in `folder`, refuses mail to recipients starting with `rejectPrefix` with a 550.
/// Restartable on the same port and folder, to play a relay outage.
final class TestRelay: Sendable {
    let port: Int
    let folder: URL
    let child: ChildProcess

    init(port: Int? = nil, folder: URL? = nil, tls: TestCertificates? = nil, rejectPrefix: String? = nil) async throws {
        let folder = try folder ?? Repository.temporaryFolder("relay")
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = Repository.root.appendingPathComponent("Tests/Fixtures").path
        var lastError: (any Error)?
        for _ in 0..<(port == nil ? 5 : 40) {
            let candidate = try port ?? freeLoopbackPort()
            var arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(candidate)"]
            if let tls { arguments += ["--tlscert", tls.serverCertificate, "--tlskey", tls.serverKey] }
            arguments += ["-c", "smtp_relay.Relay", folder.path] + (rejectPrefix.map { [$0] } ?? [])
            let child = try ChildProcess("/usr/bin/python3", arguments, environment: environment)
            do {
                try await waitForTCP(port: candidate, timeout: .seconds(10))
                self.port = candidate
                self.folder = folder
                self.child = child
                return
            } catch {
                lastError = error
                child.stop()
                // A restart on a fixed port may find it briefly taken; try again shortly.
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? TestSupportError("aiosmtpd did not start")
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    /// The mails received so far, in arrival order.
    func received() throws -> [ReceivedMail] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try JSONDecoder().decode(ReceivedMail.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    func stop() { child.stop() }
}

/// A fresh state file path in a temporary folder.
func temporaryStatePath() throws -> String {
    try Repository.temporaryFolder("alerts-state").appendingPathComponent("state.sqlite").path
}
