import Foundation
import Glibc
import Probes
import TestSupport

/// One `scripts/testbed` of its own (a random prefix, so tests run in parallel), brought up by
/// `start()` and removed by `stop()`; the probes run inside its observer namespace.
final class Testbed: Sendable {
    let prefix: String

    /// Network namespaces need root; under CI they must run, so a missing root fails there.
    static var canRun: Bool { getuid() == 0 || Repository.isCI }

    static var script: String { Repository.root.appendingPathComponent("scripts/testbed").path }

    private init(prefix: String) { self.prefix = prefix }

    static func start() async throws -> Testbed {
        let bed = Testbed(prefix: "t" + String(UInt32.random(in: 0..<UInt32.max), radix: 16).prefix(7))
        let (status, output) = try await bed.script(["up"])
        guard status == 0 else {
            await bed.stop()
            throw TestSupportError("scripts/testbed up failed (\(status)): \(output)")
        }
        return bed
    }

    /// Runs `body` with a fresh test bed and removes the bed afterwards, also when `body` throws.
    static func with(_ body: (Testbed) async throws -> Void) async throws {
        let bed = try await start()
        do {
            try await body(bed)
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func stop() async { _ = try? await script(["down"]) }

    @discardableResult
    func script(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_PREFIX"] = prefix
        let spawned = try Spawned.start("/bin/bash", [Self.script] + arguments, environment: environment)
        defer { spawned.removeFiles() }
        return (await Self.exit(of: spawned), spawned.output)
    }

    /// Waits for the end of `spawned` without holding a thread of the cooperative pool.
    static func exit(of spawned: Spawned) async -> Int32 {
        while true {
            if let status = spawned.exitStatusIfEnded() { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Starts `netagent probe KIND ARGS --output json` in the observer namespace.
    func startProbe(_ kind: ProbeKind, _ arguments: [String]) throws -> Spawned {
        guard let netagent = Netagent.binary?.path else { throw TestSupportError("the netagent binary is not built") }
        return try Spawned.start("/usr/sbin/ip", ["netns", "exec", "\(prefix)obs", netagent, "probe", kind.rawValue]
                                 + arguments + ["--output", "json"], separateStderr: true)
    }

    /// Runs `netagent ARGS` to the end in the observer namespace.
    func netagent(_ arguments: [String], environment: [String: String]? = nil) async throws -> Netagent.Outcome {
        guard let netagent = Netagent.binary?.path else { throw TestSupportError("the netagent binary is not built") }
        let spawned = try Spawned.start("/usr/sbin/ip", ["netns", "exec", "\(prefix)obs", netagent] + arguments,
                                        environment: environment, separateStderr: true)
        defer { spawned.removeFiles() }
        let status = await Self.exit(of: spawned)
        return Netagent.Outcome(status: status, stdout: spawned.output, stderr: spawned.errorOutput)
    }

    /// Runs `netagent probe` to the end and decodes its report.
    func probe(_ kind: ProbeKind, _ arguments: [String]) async throws -> ProbeReport {
        let spawned = try startProbe(kind, arguments)
        defer { spawned.removeFiles() }
        return try ProbeReport.decode(spawned, status: await Self.exit(of: spawned))
    }

    /// The test bed's nodes as `--node` flags (see scripts/testbed for the layout).
    static let nodeFlags = [
        "--node", "cp1=198.18.0.11:controlplane", "--node", "cp2=198.18.0.12:controlplane",
        "--node", "cp3=198.18.0.13:controlplane", "--node", "w1=198.18.0.21", "--node", "w2=198.18.0.22",
        "--node", "w3=198.18.0.23", "--node", "w4=198.18.0.24", "--offline", "w4=PSU not working",
        "--node", "far=198.18.1.31",
    ]
}

/// What `netagent probe --output json` prints.
struct ProbeReport: Decodable {
    var ok: Bool
    var results: [ProbeResult]
    var faultsSeen: [String]
    var events: [VIPEvent]
    var exitStatus: Int32 = 0

    private enum CodingKeys: String, CodingKey { case ok, results, faultsSeen, events }

    static func decode(_ spawned: Spawned, status: Int32) throws -> ProbeReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            var report = try decoder.decode(ProbeReport.self, from: Data(spawned.output.utf8))
            report.exitStatus = status
            return report
        } catch {
            throw TestSupportError("netagent probe exited \(status): \(spawned.output) \(spawned.errorOutput)")
        }
    }

    subscript(_ target: String) -> ProbeResult? { results.first { $0.target == target } }
}
