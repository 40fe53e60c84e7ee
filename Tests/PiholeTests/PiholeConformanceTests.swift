import Foundation
import Lab
import NetIO
import Testing
import TestSupport

/// The Lab's Pi-hole held to a client nobody here wrote from netagent's beliefs:
/// Tests/Conformance/pihole_conformance.py builds every request from FTL's own OpenAPI files
/// (../shared/reference/pihole-ftl-openapi) and checks every answer against the schemas
/// there. When they disagree, the simulator is wrong.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeConformanceTests {
    static let python = Repository.root.appendingPathComponent(".venv-conformance/bin/python").path
    static let script = Repository.root.appendingPathComponent("Tests/Conformance/pihole_conformance.py").path
    static let spec = Repository.root.appendingPathComponent("../shared/reference/pihole-ftl-openapi").standardizedFileURL.path

    @Test("the client written from FTL's OpenAPI files finds the simulator conforming")
    func simulatorConformsToFTLsOpenAPI() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python),
                     "no \(Self.python): scripts/setup makes the conformance venv")
        try #require(FileManager.default.fileExists(atPath: Self.spec + "/main.yaml"), "FTL's OpenAPI files are not at \(Self.spec)")
        var options = PiholeSimulator.Options(password: "conformance-password")
        options.restartDowntime = .seconds(1)
        try await PiholeSimulator(options).withRunning { url in
            let spawned = try Spawned.start(Self.python, [
                Self.script, "--url", url, "--password", "conformance-password", "--spec", Self.spec,
            ])
            defer { spawned.removeFiles() }
            let deadline = ContinuousClock.now + .seconds(120)
            var status = spawned.exitStatusIfEnded()
            while status == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                status = spawned.exitStatusIfEnded()
            }
            if status == nil { spawned.kill() }
            let output = spawned.output
            #expect(status == 0, "\(output)")
            let summary = try #require(output.split(separator: "\n").last, "no output")
            #expect(summary.hasSuffix(" passed, 0 failed"), "\(output)")
            // The suite ran its checks (not an empty run).
            #expect((Int(summary.split(separator: " ").first ?? "") ?? 0) >= 60, "\(summary)")
        }
    }
}
