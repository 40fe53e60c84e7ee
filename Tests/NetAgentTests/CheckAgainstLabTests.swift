import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

/// `netagent check --config DIR/netagent.yaml` against one running `netagent lab` (namespace
/// nodes, so root): healthy it exits 0; each fault the lab offers, injected alone, makes it exit 1
/// with the cause a person needs on the right target (a VIP that moves stays healthy, exit 0);
/// after `clear` it exits 0 again. Every JSON output validates against docs/check.schema.json,
/// and the table piped (no terminal) carries no colour codes.
@Suite(.enabled(if: installed("dnsmasq") && (getuid() == 0 || Repository.isCI), "needs dnsmasq and root (network namespaces)"),
       .serialized)
struct CheckAgainstLabTests {
    struct Check {
        var status: Int32
        var checks: [[String: Any]]
        var output: String

        /// The failing entries as `kind target: reason`, for messages.
        var failing: [String] {
            checks.filter { $0["ok"] as? Bool == false }.map { "\($0["kind"] ?? "") \($0["target"] ?? ""): \($0["reason"] ?? "")" }
        }

        func entries(_ kind: String) -> [[String: Any]] { checks.filter { $0["kind"] as? String == kind } }
    }

    /// A run of `netagent check --output json` whose output has the documented shape.
    static func check(_ lab: LabProcess) async throws -> Check {
        let run = try await Netagent.run(lab.binary, ["check", "--config", lab.info.config, "--output", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                  "exit \(run.status): \(run.stdout) \(run.stderr)")
        let problems = JSONShape.problems(object, schema: try JSONShape.schema("docs/check.schema.json"))
        #expect(problems.isEmpty, "\(problems)")
        #expect(object["ok"] as? Bool == (run.status == 0), "\(run.stdout)")
        return Check(status: run.status, checks: object["checks"] as? [[String: Any]] ?? [], output: run.stdout + run.stderr)
    }

    /// Checks until every check is ok: after a fault is cleared, the running agent's alerts take a
    /// probe round or two to resolve, and `check` counts firing alerts as failures.
    static func healthy(_ lab: LabProcess, _ what: String) async throws -> Check {
        var last: Check?
        do {
            try await eventually(what, timeout: .seconds(90)) {
                last = try await check(lab)
                return last?.status == 0
            }
        } catch {
            Issue.record("\(what): still failing: \(last?.failing ?? [])")
            throw error
        }
        return try #require(last)
    }

    /// Injects `fault`, then checks until the fault's own target fails (the agent needs nothing
    /// here: `check` probes by itself, but the lab applies some faults a moment later).
    static func inject(_ lab: LabProcess, _ fault: [String], kind: String, target: @escaping @Sendable (String) -> Bool) async throws -> (Check, [String: Any]) {
        let outcome = try await lab.fault(words: fault)
        try #require(outcome.status == 0, "\(fault): \(outcome.stdout)\(outcome.stderr)")
        var found: (Check, [String: Any])?
        var last: Check?
        do {
            try await eventually("\(fault.joined(separator: " ")) seen by check", timeout: .seconds(60)) {
                let run = try await check(lab)
                last = run
                if let entry = run.entries(kind).first(where: { target($0["target"] as? String ?? "") && $0["ok"] as? Bool == false }) {
                    found = (run, entry)
                }
                return found != nil
            }
        } catch {
            Issue.record("\(fault): check never failed \(kind); failing: \(last?.failing ?? [])")
            throw error
        }
        return try #require(found)
    }

    @Test("netagent check against the lab: 0 healthy, 1 naming the right cause for each fault, 0 again after clear")
    func everyFaultOfTheLab() async throws {
        let dir = try Repository.temporaryFolder("check-lab-ns")
        let (name, octet) = LabProcess.uniqueName("c")
        let lab = try await LabProcess.start(name: name, octet: octet, dir: dir)
        let status = try await lab.stop(after: { try await exercise(lab) })
        #expect(status == 0, "\(lab.child.output)")
    }

    func exercise(_ lab: LabProcess) async throws {
        try await eventually("records converge", timeout: .seconds(90)) { try await lab.converged() }
        let vip = "198.18.\(lab.octet).10"

        // Healthy: every area the lab configures is there and ok.
        let first = try await Self.healthy(lab, "check passes on the converged lab")
        #expect(Set(first.checks.compactMap { $0["kind"] as? String }) == ["records", "dns", "nodes", "mtu", "vip", "tunnel", "alerts"],
                "\(first.checks.map { $0["kind"] ?? "" })")
        #expect(first.entries("nodes").contains { $0["target"] as? String == "k8s-4" && ($0["reason"] as? String ?? "").contains("known offline") })

        // The table, piped: the same verdict, no colour codes.
        let table = try await Netagent.run(lab.binary, ["check", "--config", lab.info.config])
        #expect(table.status == 0, "\(table.stdout)\(table.stderr)")
        #expect(!table.stdout.contains("\u{1B}["), "\(table.stdout)")
        #expect(table.stdout.contains("Nodes") && table.stdout.contains("k8s-6") && !table.stdout.contains("FAIL"), "\(table.stdout)")

        // A node whose services stop but which still answers ping.
        let (down, node) = try await Self.inject(lab, ["node-down", "k8s-6"], kind: "nodes") { $0 == "k8s-6" }
        #expect(down.status == 1)
        let nodeReason = node["reason"] as? String ?? ""
        #expect(nodeReason.hasPrefix("k8s-6: TCP 10250, 50000 refused, ICMP ok — "), "\(nodeReason)")
        #expect(nodeReason.contains("the host is up but nothing listens (kubelet, Talos apid)"), "\(nodeReason)")
        #expect(down.failing.allSatisfy { $0.hasPrefix("nodes k8s-6") || $0.hasPrefix("alerts open alerts") }, "\(down.failing)")
        let failedTable = try await Netagent.run(lab.binary, ["check", "--config", lab.info.config])
        #expect(failedTable.status == 1 && !failedTable.stdout.contains("\u{1B}["), "\(failedTable.stdout)")
        #expect(failedTable.stdout.contains("FAIL  k8s-6"), "\(failedTable.stdout)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "node-down cleared")

        // A switch port that drops frames above 1400 bytes without a word.
        let (mtu, path) = try await Self.inject(lab, ["mtu", "k8s-8", "1400"], kind: "mtu") { $0 == "k8s-8" }
        #expect(mtu.status == 1)
        let mtuReason = path["reason"] as? String ?? ""
        #expect(mtuReason.hasPrefix("path MTU to k8s-8 is 1400, expected 1500: black hole"), "\(mtuReason)")
        #expect(mtu.failing.allSatisfy { $0.hasPrefix("mtu k8s-8") || $0.hasPrefix("alerts open alerts") }, "\(mtu.failing)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "mtu cleared")

        // Pi-hole stops: its API and its dnsmasq.
        let (pihole, dns) = try await Self.inject(lab, ["pihole-down"], kind: "dns") { $0.hasPrefix("pihole") }
        #expect(pihole.status == 1)
        #expect((dns["reason"] as? String ?? "").contains("port closed — the DNS service is not running"), "\(dns)")
        #expect(pihole.failing.allSatisfy { $0.hasPrefix("dns pihole") || $0.hasPrefix("records pihole") || $0.hasPrefix("alerts open alerts") },
                "\(pihole.failing)")
        let piholePlan = try #require(pihole.entries("records").first { ($0["target"] as? String ?? "").hasPrefix("pihole ") }, "\(pihole.failing)")
        let piholeURL = String((piholePlan["target"] as? String ?? "").dropFirst("pihole ".count))
        let piholeReason = piholePlan["reason"] as? String ?? ""
        #expect(piholePlan["ok"] as? Bool == false)
        #expect(piholeReason.hasPrefix("cannot read Pi-hole at \(piholeURL): ") && piholeReason.contains("refused"), "\(piholeReason)")
        #expect(piholeReason.contains("— nothing listens there: Pi-hole down"), "\(piholeReason)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "pihole-down cleared")

        // Cloudflare's API stops: the plan cannot be read.
        let (cloudflare, plan) = try await Self.inject(lab, ["cloudflare-down"], kind: "records") { $0.hasPrefix("cloudflare ") }
        #expect(cloudflare.status == 1)
        let cloudflareReason = plan["reason"] as? String ?? ""
        #expect(cloudflareReason.hasPrefix("cannot read Cloudflare at \(lab.info.cloudflare)"), "\(cloudflareReason)")
        #expect(cloudflareReason.contains("connection refused — nothing listens there: Cloudflare down, or a wrong apiURL?"), "\(cloudflareReason)")
        // The tunnel's status comes from the same API: its line blames the API, not cloudflared.
        let tunnelAPI = try #require(cloudflare.entries("tunnel").first { ($0["target"] as? String ?? "").hasPrefix("tunnel ") }, "\(cloudflare.failing)")
        let tunnelAPIReason = tunnelAPI["reason"] as? String ?? ""
        #expect(tunnelAPI["ok"] as? Bool == false && tunnelAPIReason.contains("the Cloudflare API cannot be read (Failed to connect to 127.0.0.1 port ")
                && tunnelAPIReason.contains("Couldn't connect to server) — Cloudflare's API unreachable from here"),
                "\(tunnelAPIReason)")
        #expect(!tunnelAPIReason.contains("cloudflared not running"), "\(tunnelAPIReason)")
        #expect(cloudflare.failing.allSatisfy { $0.hasPrefix("records cloudflare") || $0.hasPrefix("tunnel tunnel ") || $0.hasPrefix("alerts open alerts") },
                "\(cloudflare.failing)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "cloudflare-down cleared")

        // cloudflared loses its edge connections.
        let (tunnel, ready) = try await Self.inject(lab, ["tunnel-down"], kind: "tunnel") { $0.hasPrefix("cloudflared ") }
        #expect(tunnel.status == 1)
        let tunnelReason = ready["reason"] as? String ?? ""
        #expect(tunnelReason.contains("0 ready connection(s), at least 2 needed") && tunnelReason.contains("cloudflared cannot reach Cloudflare's edge"),
                "\(tunnelReason)")
        #expect(tunnel.failing.allSatisfy { $0.hasPrefix("tunnel ") || $0.hasPrefix("alerts open alerts") }, "\(tunnel.failing)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "tunnel-down cleared")

        // Nobody holds the VIP.
        let (vipDown, vipEntry) = try await Self.inject(lab, ["vip-down"], kind: "vip") { $0.hasPrefix(vip) }
        #expect(vipDown.status == 1)
        let vipReason = vipEntry["reason"] as? String ?? ""
        #expect(vipReason.hasPrefix("VIP \(vip):6443 ") && vipReason.contains("nobody answers ARP for \(vip) — no control plane holds the VIP"),
                "\(vipReason)")
        #expect(vipDown.failing.allSatisfy { $0.hasPrefix("vip ") || $0.hasPrefix("alerts open alerts") }, "\(vipDown.failing)")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "vip-down cleared")

        // The VIP moves to another control plane: a failover, not a failure.
        let move = try await lab.fault("vip-move", "k8s-3")
        #expect(move.status == 0, "\(move.stdout)\(move.stderr)")
        var moved: Check?
        try await eventually("check sees k8s-3 holding the VIP", timeout: .seconds(30)) {
            moved = try await Self.check(lab)
            return moved?.entries("vip").first?["reason"].map { "\($0)".contains("k8s-3") } ?? false
        }
        #expect(moved?.status == 0, "\(moved?.failing ?? [])")
        #expect(try await lab.fault("clear").status == 0)
        _ = try await Self.healthy(lab, "vip-move cleared")
    }
}
