import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

/// `netagent lab` as a person runs it: one process, its addresses read from `DIR/lab.json`,
/// faults through `netagent lab fault`, and nothing left behind when it stops.
struct LabProcess {
    struct Info: Decodable {
        var pid: Int32
        var dir: String
        var control: String
        var cloudflare: String
        var piholeDNS: String
        var agent: String
        var mail: String
        var config: String
    }

    let binary: URL
    let child: ChildProcess
    let info: Info
    let name: String

    /// Starts `netagent lab` and waits until it is up and has written lab.json.
    static func start(name: String, octet: Int, dir: URL, extra: [String] = []) async throws -> LabProcess {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let child = try ChildProcess(binary.path, ["lab", "--name", name, "--octet", "\(octet)", "--dir", dir.path, "--for", "10m"] + extra)
        try await child.waitForOutput(timeout: .seconds(60)) { $0.contains("is up") }
        let data = try Data(contentsOf: dir.appendingPathComponent("lab.json"))
        return LabProcess(binary: binary, child: child, info: try JSONDecoder().decode(Info.self, from: data), name: name)
    }

    func fault(_ words: String...) async throws -> Netagent.Outcome { try await fault(words: words) }

    func fault(words: [String]) async throws -> Netagent.Outcome {
        try await Netagent.run(binary, ["lab", "fault", "--dir", info.dir] + words)
    }

    func get(_ url: String, token: String? = nil) async throws -> String {
        let headers = token.map { [HTTPHeader(name: "Authorization", value: "Bearer \($0)")] } ?? []
        let response = try await HTTPClient().send(HTTPRequest(url: url, headers: headers, timeout: .seconds(10)))
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The lab's own progress: records present and desired per provider, mails.
    func progress() async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try await get(info.control + "/progress").utf8)) as? [String: Any] ?? [:]
    }

    func converged() async throws -> Bool {
        let p = try await progress()
        let counts = ["piholePresent", "piholeDesired", "cloudflarePresent", "cloudflareDesired"].map { p[$0] as? Int ?? -1 }
        let stale = ["piholeStale", "cloudflareStale"].map { p[$0] as? Int ?? -1 }
        return counts[1] > 0 && counts[0] == counts[1] && counts[2] == counts[3] && stale == [0, 0]
    }

    func metrics() async throws -> String { try await get(info.agent + "/metrics") }

    func mailSubjects() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: info.mail)) ?? []
        return files.compactMap { file in
            let text = (try? String(contentsOfFile: info.mail + "/" + file, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map(String.init)
        }
    }

    /// SIGTERM (or `signal`), then the exit status once the lab has taken everything down.
    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32? {
        child.spawned.kill(signal)
        var status: Int32?
        try await eventually("the lab exits", timeout: .seconds(60)) {
            status = child.spawned.exitStatusIfEnded()
            return status != nil
        }
        return status
    }

    /// Processes whose command line names the lab's folder (the agent, dnsmasq, aiosmtpd, listeners).
    static func processes(naming dir: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(dir + "/") ? "\(entry): \(line)" : nil
        }
    }

    static func namespaces(prefix: String) throws -> [String] {
        try runCommand("/usr/sbin/ip", ["netns", "list"]).output.split(separator: "\n")
            .map { String($0.split(separator: " ").first ?? "") }.filter { $0.hasPrefix(prefix + "-") }
    }
}

@Suite(.enabled(if: installed("dnsmasq") && (getuid() == 0 || Repository.isCI), "needs dnsmasq and root (network namespaces)"),
       .serialized)
struct LabNamespaceTests {
    @Test("netagent lab as root: a stale lab is cleared, records converge, every fault reaches the probes and the mail, and nothing is left")
    func namespacesFaultsAndCleanup() async throws {
        let dir = try Repository.temporaryFolder("lab-ns")
        // A lab killed outright leaves its namespaces and children; the next start of that name clears them.
        let stale = try await LabProcess.start(name: "lt1", octet: 201, dir: dir)
        stale.child.spawned.kill(SIGKILL)
        _ = stale.child.spawned.wait()
        #expect(try !LabProcess.namespaces(prefix: "lt1").isEmpty)

        let lab = try await LabProcess.start(name: "lt1", octet: 201, dir: dir)
        do {
            try await exercise(lab)
        } catch {
            _ = try? await lab.stop()
            throw error
        }
        let status = try await lab.stop()
        #expect(status == 0, "\(lab.child.output)")
        #expect(lab.child.output.contains("lab stopped"))
        #expect(try LabProcess.namespaces(prefix: "lt1").isEmpty)
        #expect(try runCommand("/usr/sbin/ip", ["link", "show", "lt1-lab0"]).status != 0, "the root namespace's link is gone")
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
        let zoneID = try #require(zones.range(of: #""id":"([0-9a-f]+)""#, options: .regularExpression).map { zones[$0].split(separator: "\"")[2] })
        let records = try await lab.get(lab.info.cloudflare + "/zones/\(zoneID)/dns_records?per_page=500", token: "lab-token")
        #expect(records.contains(#""name":"echo.home.test""#) && records.contains("198.18.60.51"), "\(records)")

        // The nodes answer through the root namespace's link before any fault.
        try await eventually("k8s-6 up in the agent's probes", timeout: .seconds(30)) {
            try await lab.metrics().contains(#"probe_success{kind="nodes",target="k8s-6"} 1"#)
        }

        for fault in [["node-down", "k8s-6"], ["mtu", "k8s-8", "1400"], ["pihole-down"], ["cloudflare-down"], ["tunnel-down"]] {
            let outcome = try await lab.fault(words: fault)
            #expect(outcome.status == 0, "\(fault): \(outcome.stdout)\(outcome.stderr)")
        }
        try await eventually("every fault in the agent's probes and reconciles", timeout: .seconds(60)) {
            let metrics = try await lab.metrics()
            return metrics.contains(#"probe_success{kind="nodes",target="k8s-6"} 0"#)
                && metrics.contains(#"probe_success{kind="mtu",target="k8s-8"} 0"#)
                && metrics.contains(#"probe_success{kind="dns-server",target="pihole (\#(lab.info.piholeDNS))"} 0"#)
                && metrics.contains(#"probe_success{kind="tunnel",target="cloudflared http"#) && metrics.contains(#"/ready"} 0"#)
                && metrics.contains(#"netagent_reconcile_total{provider="cloudflare"#) && metrics.contains(#"outcome="failure"}"#)
        }

        // The VIP moves: netagent's VIP probe sees the new holder.
        let move = try await lab.fault("vip-move", "k8s-3")
        #expect(move.status == 0 && move.stdout.contains("k8s-1 -> k8s-3"), "\(move.stdout)\(move.stderr)")
        let probe = try await Netagent.run(lab.binary, ["probe", "vip", "--config", lab.info.config, "--output", "json"])
        #expect(probe.stdout.contains(#""holder" : "k8s-3""#) || probe.stdout.contains(#""holder":"k8s-3""#), "\(probe.stdout)\(probe.stderr)")

        // Alert mail for each, in the mail folder.
        try await eventually("alert mail for every fault", timeout: .seconds(150)) {
            let subjects = lab.mailSubjects().joined(separator: "\n")
            return subjects.contains("k8s-6") && subjects.contains("path MTU") && subjects.contains("DNS servers failing")
                && subjects.contains("DNS providers failing") && subjects.contains("Cloudflare tunnel unhealthy")
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
                && metrics.contains(#"probe_success{kind="mtu",target="k8s-8"} 1"#)
        }
    }
}

@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct LabLoopbackTests {
    @Test("netagent lab --loopback: nodes on 127.0.N.x, a route added and deleted, node-down reaches the probes, mtu is refused as unavailable, Ctrl-C cleans up")
    func loopbackNodes() async throws {
        let dir = try Repository.temporaryFolder("lab-lo")
        let lab = try await LabProcess.start(name: "lt2", octet: 202, dir: dir, extra: ["--loopback"])
        do {
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
        } catch {
            _ = try? await lab.stop()
            throw error
        }
        let status = try await lab.stop(SIGINT)
        #expect(status == 0, "\(lab.child.output)")
        #expect(LabProcess.processes(naming: dir.path).isEmpty, "\(LabProcess.processes(naming: dir.path))")
    }
}
