import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

@Suite(.enabled(if: installed("dnsmasq") && (getuid() == 0 || Repository.isCI), "needs dnsmasq and root (network namespaces)"),
       .serialized)
struct LabNamespaceTests {
    @Test("netagent lab as root: a stale lab is cleared, records converge, every fault reaches the probes and the mail, and nothing is left")
    func namespacesFaultsAndCleanup() async throws {
        let dir = try Repository.temporaryFolder("lab-ns")
        // A lab killed outright leaves its namespaces and children; the next start of that name clears them.
        let (name, octet) = LabProcess.uniqueName("t")
        let stale = try await LabProcess.start(name: name, octet: octet, dir: dir)
        stale.child.spawned.kill(SIGKILL)
        _ = stale.child.spawned.wait()
        #expect(try !LabProcess.namespaces(prefix: name).isEmpty)

        let lab = try await LabProcess.start(name: name, octet: octet, dir: dir)
        let status = try await lab.stop(after: { try await exercise(lab) })
        #expect(status == 0, "\(lab.child.output)")
        #expect(lab.child.output.contains("lab stopped"))
        #expect(try LabProcess.namespaces(prefix: name).isEmpty)
        #expect(try runCommand("/usr/sbin/ip", ["link", "show", "\(name)-lab0"]).status != 0, "the root namespace's link is gone")
        #expect(LabProcess.processes(naming: dir.path).isEmpty, "\(LabProcess.processes(naming: dir.path))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("lab.json").path))
    }

    func exercise(_ lab: LabProcess) async throws {
        try await eventually("records converge", timeout: .seconds(60)) { try await lab.converged() }

        // The records are really there: Pi-hole's dnsmasq answers, Cloudflare lists them.
        let resolver = Resolver(options: .init(timeout: .seconds(1)))
        defer { resolver.shutdown() }
        let answer = try await resolver.query("argocd.home.test", type: .a, server: try DNSServer(parsing: lab.info.piholeDNS))
        #expect(answer.records.map(\.data) == [.a("198.18.60.50")], "\(answer)")
        let zones = try await lab.get(lab.info.cloudflare + "/zones?name=home.test", token: "lab-token")
        // The zone's own id: a zone also names its account's and its plan's ids (the SDK's Zone model).
        let zoneList = try JSONSerialization.jsonObject(with: Data(zones.utf8)) as? [String: Any]
        let zoneID = try #require(((zoneList?["result"] as? [[String: Any]])?.first?["id"] as? String), "\(zones)")
        let records = try await lab.get(lab.info.cloudflare + "/zones/\(zoneID)/dns_records?per_page=500", token: "lab-token")
        #expect(records.contains(#""name":"echo.home.test""#) && records.contains("198.18.60.51"), "\(records)")

        // The nodes answer through the root namespace's link before any fault.
        try await eventually("k8s-6 up in the agent's probes", timeout: .seconds(30)) {
            try await lab.metrics().contains(#"probe_success{kind="nodes",target="k8s-6"} 1"#)
        }

        // The VIP moves: netagent's VIP probe sees the new holder.
        let move = try await lab.fault("vip-move", "k8s-3")
        #expect(move.status == 0 && move.stdout.contains("k8s-1 -> k8s-3"), "\(move.stdout)\(move.stderr)")
        let probe = try await Netagent.run(lab.binary, ["probe", "vip", "--config", lab.info.config, "--output", "json"])
        #expect(probe.stdout.contains(#""holder" : "k8s-3""#) || probe.stdout.contains(#""holder":"k8s-3""#), "\(probe.stdout)\(probe.stderr)")

        for fault in [["node-down", "k8s-6"], ["mtu", "k8s-8", "1400"], ["pihole-down"], ["cloudflare-down"], ["tunnel-down"], ["vip-down"]] {
            let outcome = try await lab.fault(words: fault)
            #expect(outcome.status == 0, "\(fault): \(outcome.stdout)\(outcome.stderr)")
        }
        try await eventually("every fault in the agent's probes and reconciles", timeout: .seconds(60)) {
            let metrics = try await lab.metrics()
            return metrics.contains(#"probe_success{kind="nodes",target="k8s-6"} 0"#)
                && metrics.contains(#"probe_success{kind="mtu",target="k8s-8"} 0"#)
                && metrics.contains(#"probe_success{kind="dns-server",target="pihole (\#(lab.info.piholeDNS))"} 0"#)
                && metrics.contains(#"probe_success{kind="vip",target="198.18.\#(lab.octet).10:6443"} 0"#)
                && metrics.contains(#"probe_success{kind="tunnel",target="cloudflared http"#) && metrics.contains(#"/ready"} 0"#)
                && metrics.contains(#"netagent_reconcile_total{provider="cloudflare"#) && metrics.contains(#"outcome="failure"}"#)
        }

        // Alert mail for each, in the mail folder.
        try await eventually("alert mail for every fault", timeout: .seconds(150)) {
            let subjects = lab.mailSubjects().joined(separator: "\n")
            return subjects.contains("k8s-6") && subjects.contains("path MTU") && subjects.contains("DNS servers failing")
                && subjects.contains("DNS providers failing") && subjects.contains("Cloudflare tunnel unhealthy")
                && subjects.contains("control-plane VIP down")
        }

        // A fault on an offline node or an unknown fault is refused with the reason.
        let offline = try await lab.fault("node-down", "k8s-4")
        #expect(offline.status == 2 && offline.stderr.contains("offline"), "\(offline.stderr)")

        // Cleared: everything answers again and the records are back in step.
        #expect(try await lab.fault("clear").status == 0)
        try await eventually("healthy again", timeout: .seconds(60)) {
            let metrics = try await lab.metrics()
            let converged = try await lab.converged()
            return converged && metrics.contains(#"probe_success{kind="nodes",target="k8s-6"} 1"#)
                && metrics.contains(#"probe_success{kind="vip",target="198.18.\#(lab.octet).10:6443"} 1"#)
                && metrics.contains(#"probe_success{kind="mtu",target="k8s-8"} 1"#)
        }
    }
}

@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct LabLoopbackTests {
    @Test("netagent lab --loopback: nodes on 127.0.N.x, a route added and deleted, node-down reaches the probes, mtu is refused as unavailable, Ctrl-C cleans up")
    func loopbackNodes() async throws {
        let dir = try Repository.temporaryFolder("lab-lo")
        let (name, octet) = LabProcess.uniqueName("t")
        let lab = try await LabProcess.start(name: name, octet: octet, dir: dir, extra: ["--loopback"])
        let status = try await lab.stop(SIGINT) {
            #expect(lab.child.output.contains("mtu: unavailable"), "\(lab.child.output)")
            try await eventually("records converge", timeout: .seconds(60)) { try await lab.converged() }
            try await eventually("k8s-6 up", timeout: .seconds(30)) {
                try await lab.metrics().contains(#"probe_success{kind="nodes",target="k8s-6"} 1"#)
            }
            // A route added in the lab's cluster reaches Pi-hole's dnsmasq; deleted, it goes again.
            let add = try await Netagent.run(lab.binary, ["lab", "route", "--dir", lab.info.dir, "add", "wiki", "wiki.home.test"])
            #expect(add.status == 0, "\(add.stdout)\(add.stderr)")
            let resolver = Resolver(options: .init(timeout: .seconds(1)))
            defer { resolver.shutdown() }
            let server = try DNSServer(parsing: lab.info.piholeDNS)
            try await eventually("wiki resolves through Pi-hole", timeout: .seconds(30)) {
                try await resolver.query("wiki.home.test", type: .a, server: server).records.map(\.data) == [.a("198.18.60.50")]
            }
            #expect(try await lab.progress()["piholeDesired"] as? Int == 9)
            #expect(try await Netagent.run(lab.binary, ["lab", "route", "--dir", lab.info.dir, "delete", "wiki"]).status == 0)
            try await eventually("wiki gone from Pi-hole", timeout: .seconds(30)) {
                try await resolver.query("wiki.home.test", type: .a, server: server).records.isEmpty
            }
            try await eventually("converged on 8 again", timeout: .seconds(30)) { try await lab.converged() }

            #expect(try await lab.fault("node-down", "k8s-6").status == 0)
            try await eventually("k8s-6 down in the agent's probes", timeout: .seconds(30)) {
                try await lab.metrics().contains(#"probe_success{kind="nodes",target="k8s-6"} 0"#)
            }
            let mtu = try await lab.fault("mtu", "k8s-8", "1400")
            #expect(mtu.status == 2 && mtu.stderr.contains("unavailable"), "\(mtu.stderr)")
        }
        #expect(status == 0, "\(lab.child.output)")
        #expect(LabProcess.processes(naming: dir.path).isEmpty, "\(LabProcess.processes(naming: dir.path))")
    }
}
