import Foundation
import Probes
import Testing
import TestSupport

/// Every fault of scripts/testbed, found and named by the right probe, on real sockets in
/// network namespaces. The probes run inside the observer namespace (`netagent probe`).
@Suite(.serialized, .enabled(if: Testbed.canRun, "needs root for network namespaces (runs under CI=true)"))
struct TestbedTests {
    @Test func nodesProbeNamesTheDownNodeAndKeepsTheOfflineOneQuiet() async throws {
        try await Testbed.with { bed in
            let report = try await bed.probe(.nodes, Testbed.nodeFlags + ["--timeout", "1s"])
            #expect(report.exitStatus == 1)
            for name in ["cp1", "cp2", "cp3", "w1", "w2", "far"] {
                #expect(report[name]?.status == .ok, "\(name): \(report[name]?.reason ?? "missing")")
            }
            #expect(report["cp1"]?.facts["tcp/6443"]?.hasPrefix("connected") == true)
            #expect(report["w1"]?.facts["tcp/6443"] == nil, "workers get no API port")
            #expect(report["cp1"]?.facts["icmp-socket"] == "unprivileged")
            let down = try #require(report["w3"])
            #expect(down.status == .failed)
            #expect([ProbeFault.timeout, .unreachable].contains(down.fault))
            #expect(down.reason.contains("does not answer"))
            let offline = try #require(report["w4"])
            #expect(offline.status == .knownOffline)
            #expect(offline.fault == nil)
            #expect(offline.reason.contains("PSU not working"))

            // With the namespace's ping_group_range closed, root falls back to a raw socket.
            try await bed.script(["exec", "obs", "sysctl", "-qw", "net.ipv4.ping_group_range=1 0"])
            let raw = try await bed.probe(.nodes, ["--node", "cp1=198.18.0.11", "--timeout", "1s"])
            #expect(raw["cp1"]?.status == .ok)
            #expect(raw["cp1"]?.facts["icmp-socket"] == "raw")
        }
    }

    @Test func mtuProbeTellsACleanSmallerMTUFromABlackHole() async throws {
        try await Testbed.with { bed in
            let report = try await bed.probe(.mtu, ["--node", "cp1=198.18.0.11", "--node", "w2=198.18.0.22", "--node", "far=198.18.1.31",
                                              "--expected-mtu", "1500", "--timeout", "5s"])
            #expect(report["cp1"]?.status == .ok)
            #expect(report["cp1"]?.facts["mtu"] == "1500")
            let far = try #require(report["far"])
            #expect(far.fault == .mtuSmaller)
            #expect(far.facts["mtu"] == "1400")
            #expect(far.facts["reported-by"] == "198.18.0.1")
            let hole = try #require(report["w2"])
            #expect(hole.fault == .mtuBlackHole)
            // The bridge drops frames above its port's MTU exactly (measured: 1400 passes, 1401 vanishes).
            #expect(hole.facts["mtu"] == "1400")
            #expect(hole.facts["silent-from"] == "1401")
            #expect(hole.facts["reported-mtu"] == nil)
        }
    }

    static let controlPlanes = ["--vip", "198.18.0.10", "--node", "cp1=198.18.0.11:controlplane",
                                "--node", "cp2=198.18.0.12:controlplane", "--node", "cp3=198.18.0.13:controlplane"]

    @Test func vipProbeFindsTheHolderAndASplitBrain() async throws {
        try await Testbed.with { bed in
            let healthy = try await bed.probe(.vip, Self.controlPlanes + ["--timeout", "1s"])
            let vip = try #require(healthy["198.18.0.10:6443"])
            #expect(vip.status == .ok, "\(vip.reason)")
            #expect(vip.facts["holder"] == "cp1")
            #expect(vip.facts["tls"] == "ok")

            try await bed.script(["vip-add", "cp3"])
            let split = try await bed.probe(.vip, Self.controlPlanes + ["--timeout", "1s"])
            let result = try #require(split["198.18.0.10:6443"])
            #expect(result.fault == .splitBrain)
            #expect(Set(result.facts["holders"]?.components(separatedBy: ", ") ?? []) == ["cp1", "cp3"])
            #expect(split.events.map(\.kind) == [.splitBrain])
            #expect(split.exitStatus == 1)
        }
    }

    @Test func vipProbeRecordsAFailoverWithOldAndNewHolder() async throws {
        try await Testbed.with { bed in
            let running = try bed.startProbe(.vip, Self.controlPlanes + ["--timeout", "400ms", "--rounds", "12", "--every", "500ms"])
            defer { running.removeFiles() }
            try await Task.sleep(for: .seconds(2))
            // Talos-like: the holder drops the VIP, the new one takes it and sends a gratuitous ARP.
            try await bed.script(["vip-del", "cp1"])
            try await Task.sleep(for: .milliseconds(1200))
            try await bed.script(["vip-add", "cp2"])
            let report = try ProbeReport.decode(running, status: await Testbed.exit(of: running))
            let failover = try #require(report.events.first { $0.kind == .failover }, "\(report.events) \(report.faultsSeen)")
            #expect(failover.oldHolder == "cp1")
            #expect(failover.newHolder == "cp2")
            #expect(failover.outageObserved)
            let duration = try #require(failover.durationSeconds)
            #expect(duration > 0.4, "the VIP was gone for 1.2 s; rounds are 0.5 s apart")
            #expect(report.faultsSeen.contains { $0.hasSuffix("no-holder") || $0.hasSuffix("vip-down") })
            #expect(report["198.18.0.10:6443"]?.facts["holder"] == "cp2")
        }
    }

    @Test func probesTakeTheirTargetsFromTheConfiguration() async throws {
        try await Testbed.with { bed in
            let folder = try Repository.temporaryFolder("testbed-config")
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("netagent.yaml").path
            let (status, yaml) = try await bed.script(["config"])
            try #require(status == 0)
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)

            let nodes = try await bed.probe(.nodes, ["--config", file])
            #expect(nodes.results.map(\.target) == ["cp1", "cp2", "cp3", "w1", "w2", "w3", "w4", "far"])
            #expect(nodes.faultsSeen == ["w3: \(nodes["w3"]?.fault?.rawValue ?? "?")"])
            #expect(nodes["w4"]?.status == .knownOffline)

            let vip = try await bed.probe(.vip, ["--config", file])
            #expect(vip["198.18.0.10:6443"]?.facts["holder"] == "cp1")
            #expect(vip.ok)
        }
    }
}
