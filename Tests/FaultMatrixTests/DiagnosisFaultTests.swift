import Foundation
import Glibc
import Lab
import Testing
import TestSupport

/// Issue 18: one fault at a time, the first failing line of `netagent check` names the root
/// cause. The link faults run on the network-namespace bed (scripts/testbed `impair`: a slow or
/// lossy link toward one node, as netem on its egress), the others on the Lab simulators.
enum Diagnosis {
    /// The first line of `check`'s table that reports a failure (`  FAIL  w1  …`), trimmed,
    /// "none" without one; `check` must have exited 1.
    static func firstFailingLine(_ check: (status: Int32, table: String), sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect(check.status == 1, "\(check.table)", sourceLocation: sourceLocation)
        return check.table.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("FAIL") } ?? "none"
    }
}

@Suite(.enabled(if: getuid() == 0 || Repository.isCI, "needs root for network namespaces (runs under CI=true)"))
struct LinkDiagnosisTests {
    /// The bed's healthy nodes with every probe on its defaults (the echo count, spacing and
    /// thresholds are `probes.nodes`' documented defaults).
    static let config = NetworkFaultTests.cluster + """

        probes:
          nodes: { tcpPorts: [50000, 10250], controlPlanePorts: [6443], icmp: true }
          vip: { port: 6443 }
          mtu: { expected: 1500 }
        """

    /// A bed whose healthy `check` exits 0 (which also fills the observer's ARP cache, as a
    /// running agent's earlier rounds would), then `impairment` on w1's link; `body` gets the bed.
    static func withImpairedW1(_ impairment: [String], _ body: (Bed, String) async throws -> Void) async throws {
        let bed = try await Bed.start()
        do {
            let config = try Repository.temporaryFolder("diagnosis").appendingPathComponent("netagent.yaml")
            try Self.config.write(to: config, atomically: true, encoding: .utf8)
            let healthy = try await check(bed, config.path)
            #expect(healthy.status == 0, "the bed is healthy before the fault: \(healthy.table)")
            let (status, output) = try await bed.script(["impair", "w1"] + impairment)
            try #require(status == 0, "impair: \(output)")
            try await body(bed, config.path)
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    /// `netagent check --config PATH` (the table) in the bed's observer.
    static func check(_ bed: Bed, _ config: String) async throws -> (status: Int32, table: String) {
        let binary = try #require(Netagent.binary)
        let spawned = try Spawned.start("/usr/sbin/ip", ["netns", "exec", bed.namespace("obs"), binary.path, "check", "--config", config],
                                        separateStderr: true)
        defer { spawned.removeFiles() }
        while true {
            if let status = spawned.exitStatusIfEnded() { return (status, spawned.output + spawned.errorOutput) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("diag-latency") func highLatency() async throws {
        try await Scenario(
            id: "diag-latency", area: "diagnosis", fault: "800 ms added on w1's link toward w1 (nothing lost)",
            assertions: "check exits 1; its first failing line is \"high latency: ~800 ms round trip to w1\""
        ).run {
            var first = ""
            try await Self.withImpairedW1(["delay", "800"]) { bed, config in
                first = Diagnosis.firstFailingLine(try await Self.check(bed, config))
                #expect(first.contains("high latency: ~800 ms round trip to w1"), "\(first)")
            }
            return "first failing line: \(first)"
        }
    }

    /// 40 % of the frames toward w1 dropped at random: the lost count X is a binomial draw.
    /// With the default 40 echoes (`probes.nodes.echoCount`), X/40 is above the default
    /// `maxLoss` of 20 % in 99.4 % of the draws at p = 0.4 (P(X ≤ 8) = 0.006), and 15 %…70 %
    /// holds 99.98 % of them (P(X ≤ 5) = 0.00014, P(X ≥ 29) = 0.00003).
    @Test("diag-loss-40") func packetLoss() async throws {
        try await Scenario(
            id: "diag-loss-40", area: "diagnosis", fault: "40 % of the frames toward w1 dropped at random",
            assertions: "check exits 1; its first failing line is \"N % packet loss to w1\" with N in 15…70; not 'filtered', not 'down'"
        ).run {
            var first = ""
            try await Self.withImpairedW1(["loss", "40"]) { bed, config in
                first = Diagnosis.firstFailingLine(try await Self.check(bed, config))
                let match = first.firstMatch(of: /(\d+) % packet loss to w1/)
                #expect(match != nil, "\(first)")
                if let percent = match.flatMap({ Int($0.1) }) { #expect((15...70).contains(percent), "\(first)") }
                #expect(!first.contains("filtered") && !first.contains("node down"), "\(first)")
            }
            return "first failing line: \(first)"
        }
    }
}

/// The DNS server and Cloudflare faults, on the Lab simulators and dnsmasq (loopback).
struct ProviderDiagnosisTests {
    /// Only the providers' and the DNS probes' lines: the lab's loopback "node" is not probed.
    static func checkLab(_ lab: FaultLab) async throws -> (status: Int32, table: String) {
        try lab.writeConfig()
        let binary = try #require(Netagent.binary)
        let run = try await Netagent.run(binary, ["check", "--config", lab.configPath], environment: FaultLab.environment)
        return (run.status, run.stdout + run.stderr)
    }

    /// A DNS server that answers REFUSED to every question from the agent (dnsmasq with no
    /// upstream and no local data refuses all: `--no-resolv`), named like the Pi-hole it is.
    @Test("diag-dns-refused", .enabled(if: installed("dnsmasq"), "needs dnsmasq"))
    func dnsRefused() async throws {
        try await Scenario(
            id: "diag-dns-refused", area: "diagnosis", fault: "the DNS server answers REFUSED to every question from the agent",
            assertions: "check exits 1; its first failing line is the DNS server's: \"Pi-hole refuses queries from this address: its listening mode / ACL\""
        ).run {
            let dns = try await DnsmasqServer(records: [])
            defer { dns.child.stop() }
            var first = ""
            try await FaultLab.with(FaultLab.Setup(cloudflare: false, probes: """
                  nodes: { enabled: false }
                  dns: { servers: [{ name: pihole, address: 127.0.0.1, port: \(dns.port) }], question: grafana.home.test }
                """)) { lab in
                // The records are in place first (one `run` converges them), so the only fault is the refusal.
                try lab.startAgent()
                try await lab.waitUntilConverged("before the fault")
                _ = try await lab.stopAgent()
                first = Diagnosis.firstFailingLine(try await Self.checkLab(lab))
                #expect(first.contains("Pi-hole refuses queries from this address: its listening mode / ACL"), "\(first)")
            }
            return "first failing line: \(first)"
        }
    }

    /// The Cloudflare token is revoked (the simulator answers every request with it 403).
    @Test("diag-token-revoked") func tokenRevoked() async throws {
        try await Scenario(
            id: "diag-token-revoked", area: "diagnosis", fault: "the Cloudflare API token is revoked",
            assertions: "check exits 1; its first failing line says \"token invalid or revoked\", not a missing permission"
        ).run {
            var first = ""
            try await FaultLab.with(FaultLab.Setup(piholes: 0, probes: "  nodes: { enabled: false }\n")) { lab in
                let cloudflare = try #require(lab.cloudflare)
                await cloudflare.faults.revokeToken(FaultLab.token)
                first = Diagnosis.firstFailingLine(try await Self.checkLab(lab))
                #expect(first.contains("token invalid or revoked"), "\(first)")
                #expect(!first.contains("lacks"), "\(first)")
            }
            return "first failing line: \(first)"
        }
    }
}
