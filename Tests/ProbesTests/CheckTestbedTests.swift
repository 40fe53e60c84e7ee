import Foundation
import Testing
import TestSupport

/// `netagent check` inside the test bed's observer: the bed's built-in faults (a down node, a
/// black-holed path, a clean smaller path MTU, a duplicated VIP) are each named with their
/// cause and exit 1; a configuration of healthy targets only exits 0.
@Suite(.serialized, .enabled(if: Testbed.canRun, "needs root for network namespaces (runs under CI=true)"))
struct CheckTestbedTests {
    /// Writes `yaml` to a fresh file and returns its path.
    static func write(_ yaml: String) throws -> String {
        let file = try Repository.temporaryFolder("check-bed").appendingPathComponent("netagent.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// `netagent check ARGS --output json` in the observer; the output must have the documented shape.
    static func check(_ bed: Testbed, _ arguments: [String]) async throws -> (status: Int32, checks: [String: [String: Any]]) {
        let run = try await bed.netagent(["check"] + arguments + ["--output", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                  "exit \(run.status): \(run.stdout) \(run.stderr)")
        let problems = JSONShape.problems(object, schema: try JSONShape.schema("docs/check.schema.json"))
        #expect(problems.isEmpty, "\(problems)")
        #expect(object["ok"] as? Bool == (run.status == 0))
        let checks = (object["checks"] as? [[String: Any]]) ?? []
        return (run.status, Dictionary(checks.map { ("\($0["kind"] ?? "")/\($0["target"] ?? "")", $0) }, uniquingKeysWith: { first, _ in first }))
    }

    static func reason(_ check: [String: Any]?) -> String { check?["reason"] as? String ?? "absent" }

    @Test func namesEachFaultOfTheBedAndExitsOne() async throws {
        try await Testbed.with { bed in
            let config = try Self.write(try await bed.script(["config"]).output)
            let (status, checks) = try await Self.check(bed, ["--config", config])
            #expect(status == 1)
            // The down node: nothing answers, neither TCP nor ICMP.
            let down = Self.reason(checks["nodes/w3"])
            #expect(down.hasPrefix("w3: TCP 10250, 50000 "), "\(down)")
            #expect(down.contains("no ICMP echo — "), "\(down)")
            #expect(checks["nodes/w3"]?["ok"] as? Bool == false)
            // The node marked offline is probed, fails nothing, and says why.
            #expect(checks["nodes/w4"]?["ok"] as? Bool == true)
            #expect(Self.reason(checks["nodes/w4"]).contains("PSU not working"))
            #expect(checks["nodes/cp1"]?["ok"] as? Bool == true)
            // The clean smaller path MTU names the router that said so; the black hole says it is one.
            let far = Self.reason(checks["mtu/far"])
            #expect(far.hasPrefix("path MTU to far is 1400, expected 1500: router 198.18.0.1 says \"fragmentation needed\""), "\(far)")
            let hole = Self.reason(checks["mtu/w2"])
            #expect(hole.hasPrefix("path MTU to w2 is 1400"), "\(hole)")
            #expect(hole.contains("expected 1500: black hole"), "\(hole)")
            #expect(checks["mtu/cp1"]?["ok"] as? Bool == true)
            // The VIP is healthy on cp1.
            #expect(Self.reason(checks["vip/198.18.0.10:6443"]) == "up, held by cp1")

            // A worker taken for a control plane: its API port refuses while it echoes.
            let refusing = try Self.write("""
                cluster:
                  name: refused
                  network: 198.18.0.0/16
                  nodes: [{ name: w1, address: 198.18.0.21, role: controlplane }]
                probes:
                  nodes: { timeout: 1s }
                """)
            let (refusedStatus, refused) = try await Self.check(bed, ["--config", refusing])
            #expect(refusedStatus == 1)
            #expect(Self.reason(refused["nodes/w1"]) == "w1: TCP 6443 refused, ICMP ok — the API server down?")

            // A second holder: split brain, named with both nodes.
            try await bed.script(["vip-add", "cp2"])
            let (vipStatus, vip) = try await Self.check(bed, ["--config", config, "--only", "vip"])
            #expect(vipStatus == 1)
            #expect(Set(vip.values.compactMap { $0["kind"] as? String }) == ["vip"])
            let split = Self.reason(vip["vip/198.18.0.10:6443"])
            #expect(split.hasPrefix("VIP 198.18.0.10 held by two nodes: "), "\(split)")
            #expect(split.contains("cp1") && split.contains("cp2") && split.contains("(split brain)"), "\(split)")

            // cp1 lets go: the VIP has moved to cp2, and all is well again.
            try await bed.script(["vip-del", "cp1"])
            let (movedStatus, moved) = try await Self.check(bed, ["--config", config, "--only", "vip"])
            #expect(movedStatus == 0)
            #expect(Self.reason(moved["vip/198.18.0.10:6443"]) == "up, held by cp2")
        }
    }

    @Test func healthyTargetsOnlyExitZeroWithAPlainTable() async throws {
        try await Testbed.with { bed in
            let config = try Self.write("""
                cluster:
                  name: healthy
                  network: 198.18.0.0/16
                  vip: 198.18.0.10
                  mtu: 1500
                  nodes:
                    - { name: cp1, address: 198.18.0.11, role: controlplane }
                    - { name: cp2, address: 198.18.0.12, role: controlplane }
                    - { name: w1, address: 198.18.0.21, role: worker }
                    - { name: w4, address: 198.18.0.24, role: worker, offline: "PSU not working" }
                probes:
                  nodes: { timeout: 1s }
                  vip: { timeout: 1s }
                  mtu: { expected: 1500, timeout: 5s }
                """)
            let (status, checks) = try await Self.check(bed, ["--config", config])
            #expect(status == 0, "\(checks.values.filter { $0["ok"] as? Bool == false })")
            #expect(checks.count == 9, "4 nodes, 4 paths, the VIP: \(checks.keys.sorted())")

            // Piped, the table has no colours; it names the areas and the unconfigured ones.
            let table = try await bed.netagent(["check", "--config", config])
            #expect(table.status == 0, "\(table.stdout) \(table.stderr)")
            #expect(!table.stdout.contains("\u{1B}["), "no escape sequences when piped")
            #expect(table.stderr.isEmpty, "no progress line when stderr is not a terminal: \(table.stderr)")
            #expect(table.stdout.contains("Nodes  ok\n"))
            #expect(table.stdout.contains("Tunnel  not configured (probes.tunnel)"))
            #expect(table.stdout.contains("  off   w4"))
            #expect(table.stdout.hasSuffix("all 9 checks ok\n"), "\(table.stdout)")
        }
    }

    /// Issue 18: `check` said 1398 where `probe mtu` said 1400, because the default 2 s deadline
    /// cut the one-size-at-a-time search and the cut-off probe counted as silent. With the black
    /// hole at 1400, 1450 and 1280, `check` on the default timeout and `probe mtu` both give the
    /// exact size.
    @Test func checkAndProbeAgreeOnTheExactBlackHoleMTU() async throws {
        try await Testbed.with { bed in
            let config = try Self.write("""
                cluster:
                  name: black-hole
                  network: 198.18.0.0/16
                  mtu: 1500
                  nodes: [{ name: w2, address: 198.18.0.22, role: worker }]
                probes:
                  mtu: { expected: 1500 }
                """)
            for mtu in [1400, 1450, 1280] {
                try await bed.script(["exec", "sw", "ip", "link", "set", "p-w2", "mtu", "\(mtu)"])
                let (status, checks) = try await Self.check(bed, ["--config", config, "--only", "mtu"])
                #expect(status == 1)
                let reason = Self.reason(checks["mtu/w2"])
                #expect(reason.hasPrefix("path MTU to w2 is \(mtu), expected 1500: black hole — packets of \(mtu + 1) bytes"), "\(reason)")
                let probe = try await bed.probe(.mtu, ["--node", "w2=198.18.0.22", "--expected-mtu", "1500"])
                #expect(probe["w2"]?.facts["mtu"] == "\(mtu)", "\(String(describing: probe["w2"]))")
                #expect(probe["w2"]?.facts["silent-from"] == "\(mtu + 1)")
                #expect(probe["w2"]?.facts["search"] == nil, "not cut short")
            }
        }
    }
}
