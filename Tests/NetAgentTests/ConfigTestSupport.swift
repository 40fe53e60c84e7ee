@testable import Config
import Foundation
@testable import NetAgent
import Testing

/// Shared helpers for the configuration tests.
enum ConfigFixtures {
    /// The package root, from this file's path (Tests/NetAgentTests/…).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared/netagent.example.yaml beside the package.
    static let examplePath = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/netagent.example.yaml").path

    static var underCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The example file's path, or nil (a recorded failure under CI) when it is missing.
    static func example() -> String? {
        if FileManager.default.fileExists(atPath: examplePath) { return examplePath }
        if underCI { Issue.record("missing \(examplePath): CI must run with shared/ beside the clone") }
        return nil
    }

    /// The smallest valid file; cases below add to it.
    static let minimal = """
        cluster:
          name: home
          network: 10.0.60.0/24
          nodes:
            - { name: a, address: 10.0.60.21 }

        """

    /// Parses `yaml` and returns its issues; records a failure when it unexpectedly loads.
    static func issues(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigIssue] {
        do {
            _ = try NetAgentConfig.parse(yaml: yaml, file: "test.yaml", baseDirectory: "/etc/netagent")
            Issue.record("expected the file to be refused", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues
        }
    }

    /// Parses `yaml`, recording the issues as a failure when it does not load.
    static func load(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> NetAgentConfig? {
        do {
            return try NetAgentConfig.parse(yaml: yaml, file: "test.yaml", baseDirectory: "/etc/netagent")
        } catch {
            Issue.record("expected a valid file:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
