import Foundation
import Glibc
import Lab
import Testing
import TestSupport

/// The Lab's simulators held to clients nobody here wrote (issue 16): the official Cloudflare
/// Python SDK and the official Kubernetes Python client, from `.venv-conformance` (made by
/// `scripts/setup` from Tests/Conformance/requirements.txt), run against the simulators started
/// in this process on loopback. A failing script means the simulator is wrong, not the script.
@Suite(.enabled(if: Conformance.python != nil || Repository.isCI, "no .venv-conformance: run scripts/setup"))
struct ConformanceTests {
    @Test func cloudflareSDKAgainstTheSimulator() async throws {
        let zone = SimulatedZone(name: "conformance.test")
        var options = CloudflareSimulator.Options(tokens: [CloudflareSimulator.Token("sdk-token")], zones: [zone])
        let tunnelID = "c0ffee00-1111-4222-8333-444455556666"
        options.tunnels = [CloudflareSimulator.Tunnel(id: tunnelID, connectors: [
            .init(connections: [.init(colo: "fra08"), .init(colo: "ams01")]),
        ])]
        let simulator = CloudflareSimulator(options)
        let output = try await simulator.withRunning { url in
            try await Conformance.run("cloudflare_sdk.py", environment: [
                "CF_BASE_URL": url, "CF_TOKEN": "sdk-token", "CF_ACCOUNT_ID": options.accountID,
                "CF_ZONE": zone.name, "CF_TUNNEL_ID": tunnelID,
            ])
        }
        #expect(output.contains("checks passed"), "\(output)")
    }

    @Test func kubernetesClientAgainstTheSimulator() async throws {
        let simulator = KubeAPISimulator()
        await simulator.setBookmarkInterval(.milliseconds(200))
        await simulator.setTooLargeWait(.milliseconds(200))
        await simulator.setHistoryLimit(20)
        let output = try await simulator.withRunning { url in
            try await Conformance.run("kube_client.py", environment: ["KUBE_SERVER": url])
        }
        #expect(output.contains("checks passed"), "\(output)")
    }
}

enum Conformance {
    /// `<package root>/.venv-conformance/bin/python`, when scripts/setup made it.
    static var python: String? {
        let path = Repository.root.appendingPathComponent(".venv-conformance/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Runs a script of Tests/Conformance to its end (at most 3 minutes) and returns its output;
    /// throws with the output when it fails.
    static func run(_ script: String, environment: [String: String]) async throws -> String {
        guard let python else { throw TestSupportError("no .venv-conformance/bin/python: run scripts/setup") }
        let path = Repository.root.appendingPathComponent("Tests/Conformance/\(script)").path
        var env = ["PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "NO_PROXY": "*"]
        env.merge(environment) { _, new in new }
        let process = try Spawned.start(python, [path], environment: env)
        defer { process.removeFiles() }
        let deadline = ContinuousClock.now + .seconds(180)
        var status: Int32?
        while true {
            status = process.exitStatusIfEnded()
            if status != nil { break }
            if ContinuousClock.now >= deadline {
                process.kill(SIGKILL)
                _ = process.wait()
                throw TestSupportError("\(script) did not finish in 3 minutes:\n\(process.output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = process.output
        guard status == 0 else { throw TestSupportError("\(script) failed (exit \(status ?? -1)):\n\(output)") }
        return output
    }
}
