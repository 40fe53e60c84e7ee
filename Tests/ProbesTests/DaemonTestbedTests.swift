import Foundation
import Glibc
import Testing
import TestSupport

/// `netagent run` inside the test bed's observer: `/metrics` shows who holds the VIP, counts
/// a failover, and gives each node's path MTU.
@Suite(.serialized, .enabled(if: Testbed.canRun, "needs root for network namespaces"))
struct DaemonTestbedTests {
    /// `/metrics` of the agent listening on 127.0.0.1:`port` inside the observer, as `name{labels}` → value.
    static func metrics(_ bed: Testbed, port: Int) async throws -> [String: Double] {
        let (status, output) = try await bed.script([
            "exec", "obs", "/usr/bin/python3", "-c",
            "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:\(port)/metrics', timeout=5).read().decode())",
        ])
        guard status == 0 else { return [:] }
        var samples: [String: Double] = [:]
        for line in output.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func metricsShowTheVIPHolderItsFailoverAndPathMTUs() async throws {
        try await Testbed.with { bed in
            let folder = try Repository.temporaryFolder("testbed-daemon")
            defer { try? FileManager.default.removeItem(at: folder) }
            let (status, yaml) = try await bed.script(["config"])
            try #require(status == 0)
            let port = 9099
            let file = folder.appendingPathComponent("netagent.yaml").path
            try (yaml + """
                state:
                  path: \(folder.appendingPathComponent("state.sqlite").path)
                server:
                  listen: 127.0.0.1:\(port)

                """).write(toFile: file, atomically: true, encoding: .utf8)
            guard let netagent = Netagent.binary?.path else { throw TestSupportError("the netagent binary is not built") }
            // `ip netns exec` execs the agent: the child's pid is the agent's.
            let agent = try Spawned.start("/usr/sbin/ip", ["netns", "exec", "\(bed.prefix)obs", netagent, "run", "--config", file])
            defer {
                agent.kill(SIGKILL)
                _ = agent.wait()
                agent.removeFiles()
            }

            let vip = "198.18.0.10:6443"
            var samples: [String: Double] = [:]
            try await eventually("cp1 holds the VIP and the MTUs are measured", timeout: .seconds(60)) {
                samples = try await Self.metrics(bed, port: port)
                return samples[#"netagent_vip_holder{vip="\#(vip)",node="cp1"}"#] == 1
                    && samples[#"netagent_path_mtu_bytes{node="far"}"#] != nil
            }
            #expect(samples[#"netagent_vip_failovers_total{vip="\#(vip)"}"#] == 0, "\(samples)")
            #expect(samples[#"netagent_path_mtu_bytes{node="cp1"}"#] == 1500, "\(samples)")
            #expect(samples[#"netagent_path_mtu_bytes{node="far"}"#] == 1400, "the router's link: \(samples)")
            #expect(samples[#"netagent_path_mtu_bytes{node="w3"}"#] == nil, "w3 is down: no MTU, \(samples)")
            #expect(samples[#"probe_success{kind="vip",target="\#(vip)"}"#] == 1, "\(samples)")

            // Talos-like failover: cp1 drops the VIP, cp2 takes it.
            try await bed.script(["vip-del", "cp1"])
            try await bed.script(["vip-add", "cp2"])
            try await eventually("the failover in /metrics", timeout: .seconds(30)) {
                samples = try await Self.metrics(bed, port: port)
                return samples[#"netagent_vip_failovers_total{vip="\#(vip)"}"#] == 1
            }
            #expect(samples[#"netagent_vip_holder{vip="\#(vip)",node="cp2"}"#] == 1, "\(samples)")
            #expect(samples[#"netagent_vip_holder{vip="\#(vip)",node="cp1"}"#] == 0, "\(samples)")

            agent.kill(SIGTERM)
            var exit: Int32?
            try await eventually("exit after SIGTERM", timeout: .seconds(10)) {
                exit = agent.exitStatusIfEnded()
                return exit != nil
            }
            #expect(exit == 0, "\(agent.output)")
        }
    }
}
