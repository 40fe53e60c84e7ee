import Foundation
import Testing
import TestSupport

@Suite("netagent config validate")
struct ConfigCLITests {
    /// The built `netagent` beside this test bundle, in the same build folder.
    static func binary() -> URL? {
        if let binary = Netagent.binary { return binary }
        if ConfigFixtures.underCI { Issue.record("the netagent binary was not found beside the test bundle") }
        return nil
    }

    static func run(_ binary: URL, _ arguments: [String]) throws -> Netagent.Outcome {
        try Netagent.run(binary, arguments)
    }

    @Test("the example file validates: exit 0 and a summary")
    func example() throws {
        guard let binary = Self.binary(), let example = ConfigFixtures.example() else { return }
        let outcome = try Self.run(binary, ["config", "validate", "--config", example])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        #expect(outcome.stdout.contains("cluster home: 10 nodes, 2 offline"))
        #expect(outcome.stdout.contains("pihole (pihole, sync)"))
    }

    @Test("a broken file: exit 2 and FILE:LINE: PATH: message on stderr, JSON logs on request")
    func broken() throws {
        guard let binary = Self.binary() else { return }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-broken-\(UUID()).yaml")
        try (ConfigFixtures.minimal + "reconcile:\n  resync: 5mm\nproviders:\n  - { name: p, type: pihole, url: http://a, policy: all }\n")
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try Self.run(binary, ["config", "validate", "--config", file.path,
                                            "--log-level", "debug", "--log-format", "json"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("\(file.path):7: reconcile.resync: malformed duration '5mm'"))
        #expect(outcome.stderr.contains("\(file.path):9: providers[0].policy: 'all' is not one of"))
        #expect(outcome.stderr.contains(#""message":"configuration refused""#))
        #expect(outcome.stdout.isEmpty)
    }

    @Test("an unreadable file and a YAML syntax error also exit 2")
    func unreadable() throws {
        guard let binary = Self.binary() else { return }
        let missing = try Self.run(binary, ["config", "validate", "--config", "/nonexistent/netagent.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("/nonexistent/netagent.yaml: cannot read"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-syntax-\(UUID()).yaml")
        try "cluster:\n  name: [a\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let syntax = try Self.run(binary, ["config", "validate", "--config", file.path])
        #expect(syntax.status == 2)
        #expect(syntax.stderr.hasPrefix("\(file.path):3: YAML syntax error"), "\(syntax.stderr)")
    }
}
